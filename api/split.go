package api

// JSON text around commands without decoding them: walking a batch's
// array, finding a top-level key, and building a single command's line.

import (
	"errors"
)

var (
	errNotArray   = errors.New("the body is not a JSON array")
	errFraming    = errors.New("malformed JSON array")
	errTooMany    = errors.New("too many commands")
	errTooDeep    = errors.New("JSON nested too deeply")
	maxSplitDepth = 64
)

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// arrayWalker finds the elements of a JSON array without decoding them: it
// tracks strings (with escapes) and bracket nesting only, so each element
// can go to the strict command decoder on its own. A framing error (not an
// array, unbalanced or mismatched brackets, an empty element, an
// unterminated string, anything after the closing bracket) fails the whole
// body; a malformed element inside good framing is the decoder's business
// (it answers `invalid` for that command alone).
type arrayWalker struct {
	b []byte
	i int // where the next element (or the closing bracket) starts
}

// openArray reads b up to its first element; empty: the array has none
// (and nothing follows it).
func openArray(b []byte) (w arrayWalker, empty bool, err error) {
	if len(b) > 1<<31-1 {
		return w, false, errFraming
	}
	w.b = b
	w.skipWS()
	if w.i == len(b) || b[w.i] != '[' {
		return w, false, errNotArray
	}
	w.i++
	w.skipWS()
	if w.i < len(b) && b[w.i] == ']' {
		return w, true, trailing(b, w.i+1)
	}
	return w, false, nil
}

// skipWS moves to the next element's first byte and returns its index.
func (w *arrayWalker) skipWS() int {
	for w.i < len(w.b) && isWS(w.b[w.i]) {
		w.i++
	}
	return w.i
}

// next scans the element that starts at start up to the comma or bracket
// that ends it, and returns its end (trailing blanks trimmed) and whether
// it is the last one (then trailing checks what follows the array). It
// scans from `from`: start, or a point after it at the element's top
// level outside any string (the end of a decoded object), so that a
// decoded element is not scanned twice.
func (w *arrayWalker) next(start, from int) (end int, last bool, err error) {
	b := w.b
	var stack uint64 // open brackets as bits: 1 = '{', 0 = '['
	depth := 0
	for i := from; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			if i = stringEnd(b, i+1); i < 0 {
				return 0, false, errFraming
			}
		case '{', '[':
			if depth == maxSplitDepth {
				return 0, false, errTooDeep
			}
			stack <<= 1
			if c == '{' {
				stack |= 1
			}
			depth++
		case '}', ']':
			if depth == 0 {
				if c != ']' {
					return 0, false, errFraming
				}
				w.i = i + 1
				end, err = elementEnd(b, start, i)
				return end, true, err
			}
			if (stack&1 == 1) != (c == '}') {
				return 0, false, errFraming
			}
			stack >>= 1
			depth--
		case ',':
			if depth == 0 {
				w.i = i + 1
				end, err = elementEnd(b, start, i)
				return end, false, err
			}
		}
	}
	return 0, false, errFraming
}

// stringEnd returns the index of the quote that closes the string whose
// contents start at i, or -1 when it is not closed.
func stringEnd(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case '"':
			return i
		case '\\':
			i++
		}
		i++
	}
	return -1
}

// elementEnd trims the blanks before the delimiter at i; an element with
// nothing in it is a framing error.
func elementEnd(b []byte, start, i int) (int, error) {
	for i > start && isWS(b[i-1]) {
		i--
	}
	if i == start {
		return 0, errFraming
	}
	return i, nil
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
