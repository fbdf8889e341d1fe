// Package shellwords splits a command line as sh would, for the quoting
// the curl examples of README and docs/API.md use: '…', "…" and a
// backslash before a newline. The docs tests of api and cmd/accrual run
// those examples with it. It is no shell: no variables, no escapes inside
// quotes.
package shellwords

import "strings"

// Split returns the words of s.
func Split(s string) []string {
	var words []string
	var w strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			w.WriteByte(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == '\\' && i+1 < len(s) && s[i+1] == '\n':
			i++
		case c == ' ' || c == '\n' || c == '\t':
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, w.String())
	}
	return words
}
