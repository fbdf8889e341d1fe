package engine

import (
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// earliestDueMS is member m's first due event, found the long way (every
// lot, every hold, whatever the member's sortedness or positions), to check
// the tick queue against something that does not share its code.
func earliestDueMS(e *Engine, m *member) int64 {
	d := int64(neverMS)
	var avail int64
	for _, l := range m.lots() {
		if l.pending() {
			d = min(d, l.matureAtMS)
		} else {
			avail += l.points
		}
	}
	if m.ext != nil {
		for _, h := range m.ext.holds {
			d = min(d, e.holds.at(int32(h)).deadlineMS)
		}
	}
	if avail == 0 {
		return d
	}
	switch e.prog.ExpiryMode {
	case ExpiryInactivity:
		d = min(d, m.lastActivityMS+e.prog.ExpiryDays*msPerDay)
	case ExpiryLot, ExpiryAnnual:
		for _, l := range m.lots() {
			if !l.pending() && l.points > 0 {
				d = min(d, l.expiresAtMS)
			}
		}
	}
	return d
}

// checkDueQueue checks the tick queue's invariant: a member with anything
// due at d has an item no later than d; no member has two; the heap is in
// order and knows every item's position.
func checkDueQueue(t fataler, e *Engine) {
	t.Helper()
	q := &e.due
	if q.len() > e.members.len() {
		t.Fatalf("the tick queue holds %d items for %d members", q.len(), e.members.len())
	}
	for i, it := range q.items {
		if q.at(it.member) != i+1 {
			t.Fatalf("item %d (member %d) is at position %d", i, it.member, q.at(it.member)-1)
		}
		if i > 0 && it.before(q.items[(i-1)/2]) {
			t.Fatalf("item %d comes before its parent", i)
		}
	}
	for mi := int32(0); int(mi) < e.members.len(); mi++ {
		d := earliestDueMS(e, e.members.at(mi))
		if d == neverMS {
			continue
		}
		p := q.at(mi)
		if p == 0 {
			t.Fatalf("member %d has something due at %s and no item in the tick queue", mi, FormatTime(d))
		}
		if got := q.items[p-1].dueMS; got > d {
			t.Fatalf("member %d has something due at %s and its item is at %s", mi, FormatTime(d), FormatTime(got))
		}
	}
}

// TestPropertyTickQueueCoversWhatIsDue: after every Apply the tick queue
// covers every member's next due event, and after a tick nothing is due by
// the tick's time: the tick brought every member with something due.
func TestPropertyTickQueueCoversWhatIsDue(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		prog := programForProperty(t)
		eng := New(prog)
		apply := func(cmds []Command, results []Result, entries []Entry) ([]Result, []Entry) {
			results, entries = eng.Apply(cmds, results, entries)
			checkDueQueue(t, eng)
			if cmds[len(cmds)-1].Type != TypeTick {
				return results, entries
			}
			for mi := int32(0); int(mi) < eng.members.len(); mi++ {
				if d := earliestDueMS(eng, eng.members.at(mi)); d <= eng.clockMS {
					t.Fatalf("after a tick at %s member %d still has something due at %s", FormatTime(eng.clockMS), mi, FormatTime(d))
				}
			}
			return results, entries
		}
		replayStream(t, eng, apply, genStream(t, prog), 1)
	})
}

const dueLotProgram = `
program: due
earn: {rate: {points: 1, per: 100}}
pending_days: 7
expiry: {mode: lot, days: 1095}
partners: [{id: shop}]
`

// TestTickQueueStaysPerMember: 50 purchases per member over ten years, with
// redemptions that spend the lots whose expiry the queue holds and weekly
// ticks, leave at most one item per member in the queue.
func TestTickQueueStaysPerMember(t *testing.T) {
	prog, err := ParseProgram([]byte(dueLotProgram))
	if err != nil {
		t.Fatal(err)
	}
	const members, purchases = 40, 50
	e := New(prog)
	var dec Decoder
	cmds := make([]Command, 1)
	var res []Result
	var entries []Entry
	apply := func(line string) {
		dec.Reset()
		dec.Decode([]byte(line), &cmds[0])
		res, entries = e.Apply(cmds, res[:0], entries[:0])
	}
	start, _ := ParseTime("2026-01-01T00:00:00Z")
	step := int64(3650 * msPerDay / (members * purchases))
	for k := 0; k < members*purchases; k++ {
		at := FormatTime(start + int64(k)*step)
		m := fmt.Sprintf("m%d", k%members)
		apply(fmt.Sprintf(`{"type":"purchase","id":"p%d","member":%q,"partner":"shop","amount":%d,"at":%q}`, k, m, 1000+k%7*100, at))
		if k%3 == 0 {
			apply(fmt.Sprintf(`{"type":"redeem","id":"r%d","member":%q,"partner":"shop","points":5,"at":%q}`, k, m, at))
		}
		if k%members == 0 {
			apply(fmt.Sprintf(`{"type":"tick","at":%q}`, at))
		}
		if e.due.len() > members {
			t.Fatalf("after %d purchases the tick queue holds %d items for %d members", k+1, e.due.len(), members)
		}
	}
	checkDueQueue(t, e)
}

// tickKeys returns the (kind, member) of a tick's entries, in order.
func tickKeys(e *Engine, entries []Entry) string {
	var b strings.Builder
	for _, en := range entries {
		acct := en.Credit
		if en.Kind == KindMature {
			acct = en.Debit
		}
		fmt.Fprintf(&b, "%s:%s ", en.Kind, e.nameOf(e.members.at(acct.Ref)))
	}
	return strings.TrimSpace(b.String())
}

// TestTickBringsWhatIsDueInOrder: a tick brings every member with something
// due, in the order of its next due time, ties by member index, whatever
// the queue's history (a member brought by a command since its item was
// queued comes at its real next due time), and what falls due only after
// an adjustment or under a new program is due all the same.
func TestTickBringsWhatIsDueInOrder(t *testing.T) {
	const lotInactivity = `
program: due
earn: {rate: {points: 1, per: 100}}
pending_days: 7
expiry: {mode: inactivity, days: 30}
partners: [{id: shop}]
`
	for _, c := range []struct {
		name    string
		program string
		change  string // a program taking effect on 2026-02-01, or ""
		lines   []string
		want    string // the last tick's entries
	}{
		{"ties by member index", dueLotProgram, "", []string{
			`{"type":"purchase","id":"b","member":"B","partner":"shop","amount":500,"at":"2026-01-01T00:00:00Z"}`,
			`{"type":"purchase","id":"a","member":"A","partner":"shop","amount":500,"at":"2026-01-01T00:00:00Z"}`,
			`{"type":"tick","at":"2026-01-09T00:00:00Z"}`,
		}, "mature:B mature:A"},
		{"a member brought by a command comes at its next due time", dueLotProgram, "", []string{
			`{"type":"purchase","id":"a1","member":"A","partner":"shop","amount":500,"at":"2026-01-01T00:00:00Z"}`,
			`{"type":"purchase","id":"b","member":"B","partner":"shop","amount":500,"at":"2026-01-01T12:00:00Z"}`,
			`{"type":"purchase","id":"a2","member":"A","partner":"shop","amount":500,"at":"2026-01-08T06:00:00Z"}`,
			`{"type":"tick","at":"2026-01-20T00:00:00Z"}`,
		}, "mature:B mature:A"},
		{"an adjustment in inactivity mode is due", lotInactivity, "", []string{
			`{"type":"adjust","id":"a1","member":"A","points":5,"at":"2026-01-01T00:00:00Z"}`,
			`{"type":"tick","at":"2026-03-01T00:00:00Z"}`,
		}, "expire:A"},
		{"a change to inactivity mode is due", dueLotProgram, lotInactivity, []string{
			`{"type":"purchase","id":"a","member":"A","partner":"shop","amount":500,"at":"2026-01-01T00:00:00Z"}`,
			`{"type":"tick","at":"2026-01-09T00:00:00Z"}`,
			`{"type":"tick","at":"2026-03-01T00:00:00Z"}`,
		}, "expire:A"},
	} {
		t.Run(c.name, func(t *testing.T) {
			prog, err := ParseProgram([]byte(c.program))
			if err != nil {
				t.Fatal(err)
			}
			e := New(prog)
			if c.change != "" {
				next, err := ParseProgram([]byte(c.change))
				if err != nil {
					t.Fatal(err)
				}
				at, _ := ParseTime("2026-02-01T00:00:00Z")
				if err := e.ScheduleProgram(next, at); err != nil {
					t.Fatal(err)
				}
			}
			var entries []Entry
			for _, l := range c.lines {
				_, entries = e.Apply(decodeLines(l), nil, nil)
			}
			if got := tickKeys(e, entries); got != c.want {
				t.Fatalf("the tick wrote %q, want %q", got, c.want)
			}
		})
	}
}
