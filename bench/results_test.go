package bench

import (
	"bytes"
	"encoding/json"
	"testing"
)

// reference is what Submit did before appendResultLines: decode into raw
// messages, compact each, one per line.
func reference(data []byte) ([]byte, int, bool) {
	var results []json.RawMessage
	if err := json.Unmarshal(data, &results); err != nil {
		return nil, 0, false
	}
	var out []byte
	for _, r := range results {
		var buf bytes.Buffer
		_ = json.Compact(&buf, r)
		out = append(append(out, buf.Bytes()...), '\n')
	}
	return out, len(results), true
}

func TestResultLinesEqualDecodeAndCompact(t *testing.T) {
	for _, in := range []string{
		`[]`, ` [ ] `, `[{"status":"ok"}]`,
		`[{"status":"ok","points":5},{"status":"error","error":{"code":"x","message":"a, b [c] {d}"}}]`,
		"[\n  {\"a\" : [1, 2, {\"b\" : \"q\\\"uote ]\"}]} ,\n  null, 3, \"s\"\n]\n",
		`[{"a":"\\"},{"b":"\u00e9 \\\" ,"}]`,
	} {
		want, wantN, ok := reference([]byte(in))
		if !ok {
			t.Fatalf("reference rejects %q", in)
		}
		got, n, err := appendResultLines(nil, []byte(in))
		if err != nil || n != wantN || !bytes.Equal(got, want) {
			t.Errorf("%q: got %q (%d, %v), want %q (%d)", in, got, n, err, want, wantN)
		}
	}
}

func TestResultLinesRejectBrokenStructure(t *testing.T) {
	for _, in := range []string{
		``, `{}`, `[`, `[{"a":1}`, `[{"a":1},]`, `[,]`, `[{"a":"x}]`, `[{"a":1}] x`, `[1 2]`, `[{"a":1}}`,
	} {
		if _, _, err := appendResultLines(nil, []byte(in)); err == nil {
			t.Errorf("%q: accepted", in)
		}
	}
}

// FuzzResultLines: on every valid JSON array the one pass gives exactly
// the decode-and-compact lines.
func FuzzResultLines(f *testing.F) {
	for _, s := range []string{`[]`, `[{"status":"ok"}]`, `[1, "a,]", {"b": [ {} ]}]`, `[{"a":"\\"}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, wantN, ok := reference(data)
		if !ok || !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("[")) {
			return
		}
		got, n, err := appendResultLines(nil, data)
		if err != nil || n != wantN || !bytes.Equal(got, want) {
			t.Fatalf("%q: got %q (%d, %v), want %q (%d)", data, got, n, err, want, wantN)
		}
	})
}

func BenchmarkResultLines(b *testing.B) {
	var body []byte
	body = append(body, '[')
	for i := range 1000 {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, `{"status":"ok","command_id":"c-000123456","member":"m-0001234","points":125,"entries":[{"seq":991,"debit":"partner:p-17","credit":"member:m-0001234","points":125}]}`...)
	}
	body = append(body, ']')
	b.Run("one-pass", func(b *testing.B) {
		b.ReportAllocs()
		var dst []byte
		for b.Loop() {
			dst, _, _ = appendResultLines(dst[:0], body)
		}
	})
	b.Run("decode-and-compact", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			reference(body)
		}
	})
}
