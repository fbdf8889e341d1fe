package engine

import (
	"encoding/json"
	"strings"
	"testing"
	"unsafe"
)

// TestDecodeRefusesRepeatedFields: a command that names a field twice is
// invalid (SPEC §6, v2.1), whichever field it is and whether or not the two
// values agree; a repeated id echoes "".
func TestDecodeRefusesRepeatedFields(t *testing.T) {
	for _, tc := range []struct {
		line, field, echo string
	}{
		{`{"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":100,"amount":100000}`, "amount", "p1"},
		{`{"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":100,"amount":100}`, "amount", "p1"},
		{`{"type":"purchase","type":"refund","id":"p1","member":"M1","partner":"shop","amount":100}`, "type", "p1"},
		{`{"type":"purchase","id":"p1","member":"M1","member":"M2","partner":"shop","amount":100}`, "member", "p1"},
		{`{"type":"purchase","id":"p1","id":"p2","member":"M1","partner":"shop","amount":100}`, "id", ""},
		{`{"type":"tick","at":"2026-01-01T00:00:00Z","at":"2027-01-01T00:00:00Z"}`, "at", ""},
	} {
		var d Decoder
		var c Command
		d.Decode([]byte(tc.line), &c)
		if !c.Invalid {
			t.Errorf("%s: accepted", tc.line)
			continue
		}
		if got := c.RepeatedField(); got != tc.field {
			t.Errorf("%s: repeated field %q, want %q", tc.line, got, tc.field)
		}
		if string(c.ID) != tc.echo {
			t.Errorf("%s: echoes id %q, want %q", tc.line, c.ID, tc.echo)
		}
		if p := c.Problem([]byte(tc.line)); !strings.Contains(p, `"`+tc.field+`" appears twice`) {
			t.Errorf("%s: problem %q does not name the repeated field", tc.line, p)
		}
	}
}

// TestDecodeProblemNamesFieldAndRule: every way to fail the `invalid`
// check has a sentence that names the field and the rule.
func TestDecodeProblemNamesFieldAndRule(t *testing.T) {
	const head = `{"type":"purchase","member":"M1","partner":"shop",`
	for _, tc := range []struct{ line, want string }{
		{head + `"id":"` + strings.Repeat("x", 300) + `","amount":100}`, `"id" must be 1 to 64 printable ASCII`},
		{head + `"id":"p1","amount":100,"colour":"red"}`, `unknown field "colour": a purchase takes type, id, member, partner, amount, category, at`},
		{head + `"id":"p1","amount":100.0}`, `"amount" must be a JSON integer`},
		{head + `"id":"p1","amount":"100"}`, `"amount" must be a JSON integer`},
		{head + `"id":"p1","amount":0}`, `"amount" must be an integer from 1 to 10^12`},
		{head + `"id":"p1","amount":100,"at":"yesterday"}`, `"at" must be an RFC 3339 time`},
		{head + `"id":"p1"}`, `a purchase needs the field "amount"`},
		{head + `"id":"p1","amount":100,"points":5}`, `a purchase takes no field "points"`},
		{head + `"id":7,"amount":100}`, `"id" must be a JSON string`},
		{`{"type":"bogus","id":"p1"}`, `"type" must be one of purchase, refund`},
		{`{"type":"transfer","id":"t1","member":"M1","to":"M1","points":5}`, `"to" must name another member`},
		{`{"type":"adjust","id":"a1","member":"M1","points":0}`, `"points" must be a non-zero integer`},
		{`{"type":"purchase",`, `not one JSON object`},
	} {
		var d Decoder
		var c Command
		d.Decode([]byte(tc.line), &c)
		if !c.Invalid {
			t.Errorf("%.60s: accepted", tc.line)
			continue
		}
		if p := c.Problem([]byte(tc.line)); !strings.Contains(p, tc.want) {
			t.Errorf("%.60s:\n problem %q\n    want %q", tc.line, p, tc.want)
		}
	}
}

// TestInvalidUTF8IDEchoesEmpty: an id that is not UTF-8 (raw bytes, or a
// lone surrogate escape) is no JSON string: the result echoes "" and the
// result line stays valid JSON.
func TestInvalidUTF8IDEchoesEmpty(t *testing.T) {
	p, err := ParseProgram([]byte(changeV1))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"{\"type\":\"purchase\",\"id\":\"p\xff\xfe\",\"member\":\"M1\",\"partner\":\"shop\",\"amount\":100}",
		`{"type":"purchase","id":"p\ud800","member":"M1","partner":"shop","amount":100}`,
	} {
		eng := New(p)
		cmds := decodeLines(line)
		res, _ := eng.Apply(cmds, nil, nil)
		out := eng.AppendJSON(nil, &res[0])
		var r struct{ ID, Error string }
		if err := json.Unmarshal(out, &r); err != nil || !json.Valid(out) {
			t.Fatalf("%q: result %q is not JSON: %v", line, out, err)
		}
		if r.ID != "" || r.Error != "invalid" {
			t.Errorf("%q: result %s, want id \"\" and invalid", line, out)
		}
	}
}

// TestDecodeFaultCostsNothing: the fault lives in Command's padding (the
// command is copied on the hot path), and a valid command decodes without
// allocating.
func TestDecodeFaultCostsNothing(t *testing.T) {
	// 296 bytes before the fault, 320 with SPEC §10's reward field (one
	// slice header): the fault itself added nothing.
	if n := unsafe.Sizeof(Command{}); n != 320 {
		t.Errorf("Command is %d bytes, was 320", n)
	}
	line := []byte(`{"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":100,"at":"2026-01-01T00:00:00Z"}`)
	var d Decoder
	var c Command
	d.Decode(line, &c)
	allocs := testing.AllocsPerRun(100, func() {
		d.Reset()
		d.Decode(line, &c)
	})
	if allocs != 0 || c.Invalid {
		t.Errorf("decoding a valid command: %v allocs, invalid %v", allocs, c.Invalid)
	}
}
