package api

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestSplitArray(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		err  error
	}{
		{`[]`, nil, nil},
		{` [ {"a":1} , {"b":"x,]}"} ]  `, []string{`{"a":1}`, `{"b":"x,]}"}`}, nil},
		{`[{"a":"\"]"},[1,{"c":[]}]]`, []string{`{"a":"\"]"}`, `[1,{"c":[]}]`}, nil},
		{`[1,2,3]`, []string{"1", "2", "3"}, nil},
		{`[{x}]`, []string{"{x}"}, nil}, // the element is the decoder's business
		{`{}`, nil, errNotArray},
		{``, nil, errNotArray},
		{`[`, nil, errFraming},
		{`[1,]`, nil, errFraming},
		{`[,1]`, nil, errFraming},
		{`[1]]`, nil, errFraming},
		{`[{]}]`, nil, errFraming},
		{`["abc]`, nil, errFraming},
		{`[1,2,3,4]`, nil, errTooMany},
	}
	for _, c := range cases {
		spans, err := splitArray([]byte(c.in), nil, 3)
		if err != c.err {
			t.Errorf("%q: err %v, want %v", c.in, err, c.err)
			continue
		}
		if err != nil {
			continue
		}
		var got []string
		for _, s := range spans {
			got = append(got, c.in[s.start:s.end])
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: %q, want %q", c.in, got, c.want)
			}
		}
	}
	deep := bytes.Repeat([]byte("["), 100)
	if _, err := splitArray(deep, nil, 10); err == nil {
		t.Error("deep nesting accepted")
	}
}

// FuzzSplitArray: the walker splits as refSplitArray did; on valid JSON
// arrays it agrees with encoding/json element by element; on anything it
// never panics and its spans are in bounds, ordered and non-empty.
func FuzzSplitArray(f *testing.F) {
	for _, s := range []string{`[]`, `[{"type":"tick"}]`, `[{"a":"\\\""}, [1,2], "x,y", null]`, `[{]`, `[1,,2]`, `["\u005d"]`, "[\n{}\n]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		spans, err := splitArray(in, nil, 100)
		if ref, refErr := refSplitArray(in, nil, 100); err != refErr || !slices.Equal(spans, ref) {
			t.Fatalf("%q: %v %v, the reference splitter %v %v", in, spans, err, ref, refErr)
		}
		last := int32(-1)
		for _, s := range spans {
			if s.start <= last || s.end <= s.start || int(s.end) > len(in) {
				t.Fatalf("bad span %v in %q", s, in)
			}
			last = s.end
		}
		var elems []json.RawMessage
		if json.Unmarshal(in, &elems) != nil {
			return
		}
		if len(elems) > 100 {
			if err != errTooMany {
				t.Fatalf("%d elements, err %v", len(elems), err)
			}
			return
		}
		depthOK := true
		if d := maxDepth(in); d > maxSplitDepth {
			depthOK = false
		}
		if err != nil {
			if depthOK {
				t.Fatalf("valid array %q: %v", in, err)
			}
			return
		}
		if len(spans) != len(elems) {
			t.Fatalf("%q: %d spans, %d elements", in, len(spans), len(elems))
		}
		for i, s := range spans {
			if !bytes.Equal(bytes.TrimSpace(elems[i]), in[s.start:s.end]) {
				t.Fatalf("%q: element %d %q, want %q", in, i, in[s.start:s.end], elems[i])
			}
		}
	})
}

func maxDepth(b []byte) int {
	d, m, inStr := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '[', '{':
			d++
			m = max(m, d)
		case ']', '}':
			d--
		}
	}
	return m
}

// FuzzReadQuery: query parsing never panics and what it accepts is in range.
func FuzzReadQuery(f *testing.F) {
	for _, s := range []string{"consistency=stale", "limit=5&cursor=abc", "at=2026-01-01T00:00:00Z", "from=1&to=2", "limit=-1", "x=y", "limit=1&limit=2", "cursor=%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var a fasthttp.Args
		a.Parse(raw)
		q, err := parseReadQuery(&a, qConsistency|qCursor|qLimit|qAt|qFrom|qTo)
		if err != nil {
			return
		}
		if q.limit < 1 || q.limit > maxLimit || len(q.cursor) > maxCursor {
			t.Fatalf("%q: %+v", raw, q)
		}
		switch q.consistency {
		case "linearizable", "leader", "stale":
		default:
			t.Fatalf("%q: consistency %q", raw, q.consistency)
		}
		if q.has&(qFrom|qTo) == qFrom|qTo && q.fromMS > q.toMS {
			t.Fatalf("%q: from after to", raw)
		}
	})
}

func TestResultCode(t *testing.T) {
	c, dup := resultCode([]byte(`{"id":"x","status":"error","error":"insufficient_points","duplicate":true}`))
	if c.String() != "insufficient_points" || !dup {
		t.Error(c, dup)
	}
	if c, _ := resultCode([]byte(`{"id":"x","status":"ok","points":1}`)); c != 0 {
		t.Error(c)
	}
}

// TestHasTopKey: only keys of the outer object count, not values, nested
// keys or strings that merely contain the name.
func TestHasTopKey(t *testing.T) {
	for _, c := range []struct {
		body string
		want bool
	}{
		{`{"type":"quote","member":"m"}`, true},
		{`{ "member":"m" , "type" : "quote"}`, true},
		{`{"member":"type"}`, false},
		{`{"x":{"type":"a"}}`, false},
		{`{"x":["type"],"y":"\"type\""}`, false},
		{`{"ty\"pe":1}`, false},
		{`{}`, false},
	} {
		if got := hasTopKey([]byte(c.body), "type"); got != c.want {
			t.Errorf("%s: %v, want %v", c.body, got, c.want)
		}
	}
}
