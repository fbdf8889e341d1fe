package bench

import (
	"errors"
	"fmt"
)

// appendResultLines appends the elements of the JSON array data to dst, one
// compact line each ('\n' after each), and returns dst and the element
// count. It is one pass over the answer: the client runs on the servers'
// cores, and decoding the array into json.RawMessages and compacting each
// cost three quarters of its CPU (docs/BENCHMARKS.md, "The bench's
// client"). It checks the array's structure (brackets, strings, commas),
// not the values' grammar: the server renders them, and --validate reads
// them.
func appendResultLines(dst, data []byte) ([]byte, int, error) {
	i := skipSpace(data, 0)
	if i == len(data) || data[i] != '[' {
		return dst, 0, errors.New("results: not a JSON array")
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return dst, 0, trailing(data, i+1)
	}
	count := 0
	for i < len(data) {
		var err error
		if dst, i, err = appendElement(dst, data, i); err != nil {
			return dst, count, err
		}
		dst = append(dst, '\n')
		count++
		i = skipSpace(data, i)
		switch {
		case i < len(data) && data[i] == ',':
			i = skipSpace(data, i+1)
		case i < len(data) && data[i] == ']':
			return dst, count, trailing(data, i+1)
		default:
			return dst, count, fmt.Errorf("results: expected , or ] at byte %d", i)
		}
	}
	return dst, count, errors.New("results: the array is not closed")
}

// appendElement copies the value starting at data[i] without the spaces
// outside its strings; it returns the index after the value.
func appendElement(dst, data []byte, i int) ([]byte, int, error) {
	depth := 0
	for start := i; i < len(data); i++ {
		c := data[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			if depth == 0 {
				return dst, i, nonEmpty(start, i)
			}
			continue
		case '"':
			end, err := stringEnd(data, i)
			if err != nil {
				return dst, i, err
			}
			dst = append(dst, data[i:end]...)
			i = end - 1
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return dst, i, nonEmpty(start, i)
			}
			depth--
		case ',':
			if depth == 0 {
				return dst, i, nonEmpty(start, i)
			}
		}
		dst = append(dst, c)
	}
	return dst, i, errors.New("results: a value is not closed")
}

// stringEnd returns the index after the string that starts at data[i].
func stringEnd(data []byte, i int) (int, error) {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errors.New("results: a string is not closed")
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

func nonEmpty(start, i int) error {
	if i == start {
		return fmt.Errorf("results: empty value at byte %d", i)
	}
	return nil
}

func trailing(data []byte, i int) error {
	if skipSpace(data, i) != len(data) {
		return fmt.Errorf("results: data after the array at byte %d", i)
	}
	return nil
}
