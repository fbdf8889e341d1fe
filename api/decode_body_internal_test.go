package api

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// span is one element of a JSON array: body[start:end].
type span struct{ start, end int32 }

// refSplitArray is the splitter POST /v1/commands used before decodeBody
// decoded in one pass, kept verbatim as the reference. It finds the
// elements of a JSON array without decoding them: it tracks strings (with escapes) and bracket nesting only, so each element
// can go to the strict command decoder on its own. A framing error (not an
// array, unbalanced or mismatched brackets, an empty element, an
// unterminated string, anything after the closing bracket) fails the whole
// body; a malformed element inside good framing is the decoder's business
// (it answers `invalid` for that command alone). At most max elements.
func refSplitArray(b []byte, spans []span, max int) ([]span, error) {
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
				if spans, err = refAddSpan(b, spans, start, i, max); err != nil {
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
				if spans, err = refAddSpan(b, spans, start, i, max); err != nil {
					return spans, err
				}
				start = i + 1
			}
		}
		i++
	}
	return spans, errFraming
}

func refAddSpan(b []byte, spans []span, start, end, max int) ([]span, error) {
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

// splitArray is the production walker as a splitter, for the framing
// tests written against refSplitArray's spans.
func splitArray(b []byte, spans []span, max int) ([]span, error) {
	spans = spans[:0]
	w, empty, err := openArray(b)
	if err != nil || empty {
		return spans, err
	}
	for {
		start := w.skipWS()
		end, last, err := w.next(start, start)
		if err != nil {
			return spans, err
		}
		if len(spans) >= max {
			return spans, errTooMany
		}
		spans = append(spans, span{int32(start), int32(end)})
		if last {
			return spans, trailing(b, w.i)
		}
	}
}

// decodeBodyCases are bodies where one pass and split-then-decode could
// part: elements with more after the object, nested and deeply nested
// values, faults whose position is reported, escapes, the count limit
// against a later framing error.
var decodeBodyCases = []string{
	`[]`, ` [ ] `, `[] x`,
	`[{"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":100,"at":"2026-01-01T00:00:00Z"}]`,
	`[ {"type":"tick"} , {"type":"quote","member":"M1","partner":"shop","amount":5} ]`,
	`[{"type":"tick"}x, {"type":"tick"}]`,
	`[{"type":"tick"} {"type":"tick"}]`,
	`[{"type":"tick"}"x", {"type":"tick"}]`,
	`[{"type":"tick"}[1]]`,
	`[{"type":"tick","id":"a\"b\u0041","bogus":1}]`,
	`[{"type":"tick","id":"t1","at":"2026-01-01T00:00:00Z","id":"t2"}]`,
	`[{"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":{"a":[1,2]}}]`,
	`[{"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":1.5}]`,
	`[{"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":NaN}]`,
	`[{"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":-Infinity}]`,
	`[{"type":"tick","x":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}]`,
	`[{"type":"tick","x":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `}]`,
	`[{"type":"tick","id":"` + "\x01" + `"}]`,
	`[{"type":"tick","id":"unterminated}]`,
	`[1, "x", null, [], {}]`, `[{},]`, `[,{}]`, `[{}]]`, `[{"a":1}`, `[{]}]`,
	`[{"type":"tick"},{"type":"tick"},{"type":"tick"},{"type":"tick"}]`,
	`[{"type":"tick"},{"type":"tick"},{"type":"tick"},{"type":"tick"}] x`,
	`[{"type":"tick"},{"type":"tick"},{"type":"tick"},{"type":"tick"},]`,
	`[{"type":"tick"},{"type":"tick"},{"type":"tick"},{]`,
	"[\n{\"type\":\"tick\"}\t,\r\n{\"type\" : \"tick\" }\n]\n",
}

// TestDecodeBodyMatchesSplitThenDecode: decoding a body in one pass gives
// the error, commands and states that splitting it (refSplitArray) and
// decoding each element gave.
func TestDecodeBodyMatchesSplitThenDecode(t *testing.T) {
	for _, body := range decodeBodyCases {
		checkDecodeBody(t, []byte(body), 3)
	}
}

// FuzzDecodeBody: the same on any body.
func FuzzDecodeBody(f *testing.F) {
	for _, body := range decodeBodyCases {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkDecodeBody(t, body, 3) })
}

func checkDecodeBody(t *testing.T, body []byte, max int) {
	t.Helper()
	now := clockNow{ms: 1_767_225_600_000, ok: true}
	want := &batch{}
	spans, wantErr := refSplitArray(body, nil, max)
	if wantErr == nil {
		for _, sp := range spans {
			want.add(body[sp.start:sp.end], now)
		}
	}
	got := &batch{body: append([]byte(nil), body...)}
	if err := got.decodeBody(max, now); err != wantErr {
		t.Fatalf("%q: error %v, want %v", body, err, wantErr)
	}
	if wantErr != nil {
		return
	}
	if !reflect.DeepEqual(got.st, want.st) || len(got.cmds) != len(want.cmds) {
		t.Fatalf("%q: states %v, want %v", body, got.st, want.st)
	}
	for i := range got.cmds {
		line := body[spans[i].start:spans[i].end]
		g, w := got.cmds[i], want.cmds[i]
		if !reflect.DeepEqual(g, w) || g.Problem(line) != w.Problem(line) {
			t.Fatalf("%q: command %d\n%+v %q\nwant\n%+v %q", body, i, g, g.Problem(line), w, w.Problem(line))
		}
	}
}

// TestDecodeBodyScansOnce: a body of valid commands is not framed twice;
// every command comes from DecodePrefix, nothing is left to Decode.
func TestDecodeBodyIsOnePass(t *testing.T) {
	body := []byte(`[{"type":"tick","id":"a"},{"type":"tick","id":"b"}]`)
	b := &batch{body: body}
	if err := b.decodeBody(10, clockNow{ok: true}); err != nil {
		t.Fatal(err)
	}
	for i := range b.cmds {
		if &b.cmds[i].ID[0] != &body[bytes.Index(body, b.cmds[i].ID)] {
			t.Errorf("command %d's id is not the body's bytes", i)
		}
	}
}
