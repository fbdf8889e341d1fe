package api

// JSON text around commands without decoding them: splitting a batch's
// array, finding a top-level key, and building a single command's line.

import (
	"errors"
)

// span is one element of a JSON array: body[start:end].
type span struct{ start, end int32 }

var (
	errNotArray   = errors.New("the body is not a JSON array")
	errFraming    = errors.New("malformed JSON array")
	errTooMany    = errors.New("too many commands")
	errTooDeep    = errors.New("JSON nested too deeply")
	maxSplitDepth = 64
)

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// splitArray finds the elements of a JSON array without decoding them: it
// tracks strings (with escapes) and bracket nesting only, so each element
// can go to the strict command decoder on its own. A framing error (not an
// array, unbalanced or mismatched brackets, an empty element, an
// unterminated string, anything after the closing bracket) fails the whole
// body; a malformed element inside good framing is the decoder's business
// (it answers `invalid` for that command alone). At most max elements.
func splitArray(b []byte, spans []span, max int) ([]span, error) {
	spans = spans[:0]
	if len(b) > 1<<31-1 {
		return spans, errFraming
	}
	i := 0
	for i < len(b) && isWS(b[i]) {
		i++
	}
	if i == len(b) || b[i] != '[' {
		return spans, errNotArray
	}
	i++
	for i < len(b) && isWS(b[i]) {
		i++
	}
	if i < len(b) && b[i] == ']' {
		i++
		return spans, trailing(b, i)
	}
	// stack of open brackets as bits: 1 = '{', 0 = '['
	var stack uint64
	depth := 0
	start := i
	for i < len(b) {
		c := b[i]
		switch c {
		case '"':
			i++
			for {
				if i >= len(b) {
					return spans, errFraming
				}
				if b[i] == '"' {
					break
				}
				if b[i] == '\\' {
					i++
				}
				i++
			}
		case '{', '[':
			if depth == maxSplitDepth {
				return spans, errTooDeep
			}
			stack <<= 1
			if c == '{' {
				stack |= 1
			}
			depth++
		case '}', ']':
			if depth == 0 {
				if c != ']' {
					return spans, errFraming
				}
				var err error
				if spans, err = addSpan(b, spans, start, i, max); err != nil {
					return spans, err
				}
				return spans, trailing(b, i+1)
			}
			if (stack&1 == 1) != (c == '}') {
				return spans, errFraming
			}
			stack >>= 1
			depth--
		case ',':
			if depth == 0 {
				var err error
				if spans, err = addSpan(b, spans, start, i, max); err != nil {
					return spans, err
				}
				start = i + 1
			}
		}
		i++
	}
	return spans, errFraming
}

func addSpan(b []byte, spans []span, start, end, max int) ([]span, error) {
	for start < end && isWS(b[start]) {
		start++
	}
	for end > start && isWS(b[end-1]) {
		end--
	}
	if start == end {
		return spans, errFraming
	}
	if len(spans) >= max {
		return spans, errTooMany
	}
	return append(spans, span{int32(start), int32(end)}), nil
}

func trailing(b []byte, i int) error {
	for ; i < len(b); i++ {
		if !isWS(b[i]) {
			return errFraming
		}
	}
	return nil
}

// hasTopKey reports whether the JSON object in body names key at its top
// level (a malformed body may answer either way: the decoder judges it).
func hasTopKey(body []byte, key string) bool {
	depth, inStr, esc, start := 0, false, false, -1
	for i, c := range body {
		switch {
		case inStr && esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case inStr && c == '"':
			inStr = false
			if start >= 0 {
				if string(body[start:i]) == key && nextIsColon(body[i+1:]) {
					return true
				}
				start = -1
			}
		case inStr:
		case c == '"':
			inStr = true
			if depth == 1 && isKeyStart(body[:i]) {
				start = i + 1
			}
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		}
	}
	return false
}

// isKeyStart reports whether a string opening after before is an object
// key: the last non-space byte before it is '{' or ','.
func isKeyStart(before []byte) bool {
	for k := len(before) - 1; k >= 0; k-- {
		if !isWS(before[k]) {
			return before[k] == '{' || before[k] == ','
		}
	}
	return false
}

func nextIsColon(rest []byte) bool {
	for _, c := range rest {
		if !isWS(c) {
			return c == ':'
		}
	}
	return false
}
