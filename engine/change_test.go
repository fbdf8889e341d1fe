package engine

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

const changeV1 = `
program: change
earn: {rate: {points: 1, per: 100}}
partners: [{id: shop}]
`

const changeV2 = `
program: change
earn: {rate: {points: 2, per: 100}}
partners: [{id: shop}, {id: cafe}]
`

func decodeLines(lines ...string) []Command {
	var d Decoder
	cmds := make([]Command, len(lines))
	for i, l := range lines {
		d.Decode([]byte(l), &cmds[i])
	}
	return cmds
}

// TestProgramChangeTakesEffectAtItsTime: commands before `at` earn under
// the old rules, from `at` on under the new; a rejected command at or after
// `at` does not bring the change forward; a snapshot keeps a pending change.
func TestProgramChangeTakesEffectAtItsTime(t *testing.T) {
	v1, err := ParseProgram([]byte(changeV1))
	if err != nil {
		t.Fatal(err)
	}
	v2, err := ParseProgram([]byte(changeV2))
	if err != nil {
		t.Fatal(err)
	}
	e := New(v1)
	at, _ := ParseTime("2026-02-01T00:00:00Z")
	if err := e.ScheduleProgram(v2, at); err != nil {
		t.Fatal(err)
	}
	var snap bytes.Buffer
	if err := e.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	restored, err := Restore(&snap)
	if err != nil {
		t.Fatal(err)
	}
	stream := []string{
		`{"type":"purchase","id":"p1","member":"m","partner":"shop","amount":1000,"at":"2026-01-15T00:00:00Z"}`,
		// rejected at Feb 2: the change must not take effect yet
		`{"type":"redeem","id":"r1","member":"m","partner":"shop","points":999,"at":"2026-02-02T00:00:00Z"}`,
		`{"type":"purchase","id":"p2","member":"m","partner":"cafe","amount":1000,"at":"2026-01-20T00:00:00Z"}`,
		`{"type":"quote","member":"m","partner":"shop","amount":1000,"at":"2026-02-01T00:00:00Z"}`,
		`{"type":"purchase","id":"p3","member":"m","partner":"shop","amount":1000,"at":"2026-01-25T00:00:00Z"}`,
		`{"type":"purchase","id":"p4","member":"m","partner":"cafe","amount":1000,"at":"2026-02-01T00:00:00Z"}`,
		`{"type":"purchase","id":"p5","member":"m","partner":"shop","amount":1000,"at":"2026-01-01T00:00:00Z"}`,
	}
	want := []string{
		`{"id":"p1","status":"ok","points":10,"available":10,"pending":0,"tier":"base"}`,
		`{"id":"r1","status":"error","error":"insufficient_points"}`,
		`{"id":"p2","status":"error","error":"unknown_partner"}`,
		`{"status":"ok","points":20,"discount":0,"tier":"base"}`,
		`{"id":"p3","status":"ok","points":10,"available":20,"pending":0,"tier":"base"}`,
		`{"id":"p4","status":"ok","points":20,"available":40,"pending":0,"tier":"base"}`,
		// late: the clock is Feb 1 now, so v2 applies
		`{"id":"p5","status":"ok","points":20,"available":60,"pending":0,"tier":"base"}`,
	}
	for _, eng := range []*Engine{e, restored} {
		res, _ := eng.Apply(decodeLines(stream...), nil, nil)
		for i := range res {
			got := string(eng.AppendJSON(nil, &res[i]))
			if got != want[i] {
				t.Fatalf("line %d: got %s want %s", i+1, got, want[i])
			}
		}
		if eng.Program() != v2 && eng.Program().Rate != v2.Rate {
			t.Fatal("the new program is not in force")
		}
	}
}

func TestProgramChangeMustKeepIndexes(t *testing.T) {
	v1, _ := ParseProgram([]byte(changeV1 + "pending_days: 5\n"))
	cases := map[string]string{
		"partners[0].id": "program: change\npartners: [{id: cafe}, {id: shop}]\npending_days: 5\n",
		"partners":       "program: change\npartners: []\npending_days: 5\n",
		"pending_days":   "program: change\npartners: [{id: shop}]\npending_days: 4\n",
		"unit":           "program: change\nunit: money\npartners: [{id: shop}]\npending_days: 5\n",
	}
	for field, src := range cases {
		next, err := ParseProgram([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		err = New(v1).ScheduleProgram(next, 0)
		var pe *ProgramError
		if !errors.As(err, &pe) || pe.Field != field {
			t.Errorf("%s: got %v", field, err)
		}
		if err != nil && !strings.Contains(err.Error(), field) {
			t.Errorf("%s: message %q", field, err)
		}
	}
}
