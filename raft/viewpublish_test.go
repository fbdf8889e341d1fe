package raft

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/accrual/accrual/engine"
	hraft "github.com/hashicorp/raft"
)

// viewTestMembers is more than one sweep (viewSweep), so a view refreshed
// only by a round-robin sweep would be missed by the first batches.
const viewTestMembers = viewSweep + 4000

// commandsOf decodes NDJSON command lines.
func commandsOf(t testing.TB, lines ...string) []engine.Command {
	t.Helper()
	var dec engine.Decoder
	out := make([]engine.Command, len(lines))
	for i, l := range lines {
		dec.Decode([]byte(l), &out[i])
		if out[i].Invalid {
			t.Fatalf("invalid: %s", l)
		}
	}
	return out
}

// publishedView is what a stale read of member id sees.
func publishedView(t testing.TB, f *fsm, id string) engine.MemberView {
	t.Helper()
	v, ok := f.views.get(id)
	if !ok {
		t.Fatalf("%s: no published view", id)
	}
	return v
}

// checkAllViews fails unless every member's published view is its view at
// the clock (right after a tick: what matures or expires by the clock
// alone reaches the views through ticks).
func checkAllViews(t testing.TB, f *fsm, when string) {
	t.Helper()
	for mi := range int32(f.eng.Members()) {
		want := f.eng.View(mi, false)
		if got := publishedView(t, f, want.Member); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: member %d published %+v, at the clock %+v", when, mi, got, want)
		}
	}
}

// TestViewChangedByTheClockIsRepublished: a view that changes with the
// clock alone (a plan's end, the tier a new year resets) is republished by
// the first batch whose clock passes the change, tick or not, for a member
// far from the start of the member indexes.
func TestViewChangedByTheClockIsRepublished(t *testing.T) {
	// A member that a round-robin sweep of viewSweep members a tick,
	// starting at the first tick, misses at the second.
	watched := fmt.Sprintf("Mm%d", viewSweep-1000)
	member := func(id, plan, at string) string {
		return fmt.Sprintf(`{"type":"membership","id":%q,"member":%q,"plan":%q,"at":%q}`, id, watched, plan, at)
	}
	tick := func(at string) string { return fmt.Sprintf(`{"type":"tick","at":%q}`, at) }
	buy := func(id, who string, amount int, at string) string {
		return fmt.Sprintf(`{"type":"purchase","id":%q,"member":%q,"partner":"shop","amount":%d,"at":%q}`, id, who, amount, at)
	}
	type step struct {
		cmd        string
		plan, tier string // the published view after it
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"a plan ends at a tick", []step{
			// A first tick brings the lots of all members: the second one
			// has nothing due for the watched member but its plan's end.
			{tick("2026-01-07T00:00:00Z"), "", "card"},
			{member("p1", "plus", "2026-01-08T00:00:00Z"), "plus", "card"},
			{buy("b1", "Mm0", 100, "2026-02-06T23:59:59.999Z"), "plus", "card"},
			{tick("2026-02-07T00:00:00Z"), "", "card"},
		}},
		{"a plan ends at another member's purchase", []step{
			{member("p1", "plus", "2026-01-02T00:00:00Z"), "plus", "card"},
			{buy("b1", "Mm0", 100, "2026-02-01T00:00:00.001Z"), "", "card"},
			{tick("2026-02-01T00:00:00.001Z"), "", "card"}, // brings what matured: checkAllViews
		}},
		{"a renewed plan ends at its new end", []step{
			{member("p1", "plus", "2026-01-02T00:00:00Z"), "plus", "card"},
			{member("p2", "plus", "2026-01-20T00:00:00Z"), "plus", "card"},
			{buy("b1", "Mm0", 100, "2026-02-01T00:00:00Z"), "plus", "card"},
			{buy("b2", "Mm0", 100, "2026-03-03T00:00:00Z"), "", "card"},
			{tick("2026-03-03T00:00:00Z"), "", "card"},
		}},
		{"a shorter plan ends at its own end", []step{
			{member("p1", "max", "2026-01-02T00:00:00Z"), "max", "card"},
			{member("p2", "plus", "2026-01-03T00:00:00Z"), "plus", "card"},
			{buy("b1", "Mm0", 100, "2026-02-02T00:00:00Z"), "", "card"},
			{tick("2026-02-02T00:00:00Z"), "", "card"},
		}},
		{"a tier resets when a year passes without it", []step{
			{buy("b1", watched, 500000, "2026-01-02T00:00:00Z"), "", "gold"},
			{tick("2027-06-01T00:00:00Z"), "", "gold"},
			{tick("2028-01-01T00:00:00Z"), "", "card"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := loadProgram(t, "club")
			f := newBareFSM(t, p)
			index := fillMembers(t, f, p, viewTestMembers)
			for _, s := range tc.steps {
				index++
				applyEntry(t, f, index, commandsOf(t, s.cmd))
				if v := publishedView(t, f, watched); v.Plan != s.plan || v.Tier != s.tier {
					t.Fatalf("after %s: published plan %q tier %q, want %q %q", s.cmd, v.Plan, v.Tier, s.plan, s.tier)
				}
			}
			checkAllViews(t, f, "at the end")
		})
	}
}

// TestViewsAfterAProgramChange: a program change that moves a tier's
// threshold changes views by itself; every view is republished within
// ceil(members/viewSweep) batches of the change taking effect, ticks or not.
func TestViewsAfterAProgramChange(t *testing.T) {
	p := loadProgram(t, "club")
	f := newBareFSM(t, p)
	index := fillMembers(t, f, p, viewTestMembers)
	index++
	applyEntry(t, f, index, commandsOf(t, `{"type":"tick","at":"2026-01-07T00:00:00Z"}`)) // lots matured
	src, err := os.ReadFile(filepath.Join("..", "testdata", "conformance", "club.program.json"))
	if err != nil {
		t.Fatal(err)
	}
	src = bytes.Replace(src, []byte(`"threshold": 80000`), []byte(`"threshold": 5000`), 1)
	at := time.Date(2026, 1, 8, 0, 0, 0, 0, time.UTC).UnixMilli()
	index++
	if r := f.ApplyBatch([]*hraft.Log{{Index: index, Type: hraft.LogCommand, Data: encodeProgram(src, at)}}); r[0].(*entryResponse).err != nil {
		t.Fatal(r[0].(*entryResponse).err)
	}
	watched := fmt.Sprintf("Mm%d", viewTestMembers-1)
	if v := publishedView(t, f, watched); v.Tier != "card" {
		t.Fatalf("before the change: tier %q", v.Tier)
	}
	for k := range (viewTestMembers + viewSweep - 1) / viewSweep {
		index++
		applyEntry(t, f, index, commandsOf(t, fmt.Sprintf(`{"type":"purchase","id":"after-%d","member":"Mm0","partner":"shop","amount":100,"at":"2026-01-08T00:00:00Z"}`, k)))
	}
	if v := publishedView(t, f, watched); v.Tier != "silver" {
		t.Fatalf("after the change: tier %q, want silver", v.Tier)
	}
	checkAllViews(t, f, "after the change")
}
