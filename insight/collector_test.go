package insight

import (
	"strings"
	"testing"

	"github.com/accrual/accrual/engine"
)

func mustProgram(t *testing.T, src string) *engine.Program {
	t.Helper()
	p, err := engine.ParseProgram([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func apply(t *testing.T, eng *engine.Engine, col *Collector, lines ...string) {
	t.Helper()
	var dec engine.Decoder
	cmds := make([]engine.Command, len(lines))
	for i, l := range lines {
		dec.Decode([]byte(l), &cmds[i])
	}
	res, ents := eng.Apply(cmds, nil, nil)
	col.Observe(cmds, res, ents)
}

// TestKPIPartnersFollowProgramChange: a partner that a program change
// adds is listed with its figures and spend, though the collector was made
// for the program before.
func TestKPIPartnersFollowProgramChange(t *testing.T) {
	v1 := mustProgram(t, "program: kp\nearn: {rate: {points: 1, per: 100}}\npartners: [{id: shop}]\n")
	v2 := mustProgram(t, "program: kp\nearn: {rate: {points: 1, per: 100}}\npartners: [{id: shop}, {id: cafe}]\n")
	eng := engine.New(v1)
	col := NewCollector(v1)
	apply(t, eng, col, `{"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":1000,"at":"2026-01-01T00:00:00Z"}`)
	if err := eng.ScheduleProgram(v2, 1767312000000); err != nil { // 2026-01-02
		t.Fatal(err)
	}
	apply(t, eng, col,
		`{"type":"purchase","id":"p2","member":"M1","partner":"cafe","amount":3000,"at":"2026-01-03T00:00:00Z"}`,
		`{"type":"redeem","id":"r1","member":"M1","partner":"cafe","points":5,"at":"2026-01-04T00:00:00Z"}`,
		`{"type":"refund","id":"f1","member":"M1","partner":"cafe","original":"p2","amount":1000,"at":"2026-01-05T00:00:00Z"}`)
	k := Compute(col, eng, Options{})
	got := map[string]PartnerFigures{}
	for _, pf := range k.Partners {
		got[pf.Partner] = pf
	}
	cafe := PartnerFigures{Partner: "cafe", Issued: 30, ClawedBack: 10, Redeemed: 5, Net: 15, Spend: 2000}
	if len(k.Partners) != 2 || got["cafe"] != cafe || got["shop"].Issued != 10 || got["shop"].Spend != 1000 {
		t.Errorf("partners %+v, want shop and %+v", k.Partners, cafe)
	}
}

// TestKPICommandsAddUp: observed = accepted + rejected + duplicates;
// ticks (the leader's clock) and quotes are not commands a KPI counts.
func TestKPICommandsAddUp(t *testing.T) {
	p := mustProgram(t, "program: kc\nearn: {rate: {points: 1, per: 100}}\npartners: [{id: shop}]\n")
	eng := engine.New(p)
	col := NewCollector(p)
	apply(t, eng, col,
		`{"type":"tick","at":"2026-01-01T00:00:00Z"}`,
		`{"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":1000,"at":"2026-01-01T00:00:01Z"}`,
		`{"type":"tick","at":"2026-01-01T00:00:02Z"}`,
		`{"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":1000,"at":"2026-01-01T00:00:03Z"}`,
		`{"type":"redeem","id":"r1","member":"M1","partner":"shop","points":500}`,
		`{"type":"quote","member":"M1","partner":"shop","amount":100}`,
		`not json`,
		`{"type":"tick","id":"t1","at":"2026-01-01T00:00:04Z"}`)
	c := Compute(col, eng, Options{}).Commands
	if c.Observed != c.Accepted+c.Rejected+c.Duplicates || c.Observed != 4 || c.Accepted != 1 || c.Duplicates != 1 || c.Rejected != 2 {
		t.Errorf("commands %+v, want 4 observed = 1 accepted + 2 rejected + 1 duplicate", c)
	}
}

// TestMembersByIDOfEveryLength: members are told apart by their whole id,
// short ids (kept inline as map keys) and long ones alike, and ids that
// share a prefix or differ only in length stay apart.
func TestMembersByIDOfEveryLength(t *testing.T) {
	p := mustProgram(t, "program: kl\nearn: {rate: {points: 1, per: 100}}\npartners: [{id: shop}]\n")
	col := NewCollector(p)
	ids := []string{"M", "MM", "M1", "M12345678901234567890AB", "M12345678901234567890ABC",
		"M12345678901234567890ABD", "M12345678901234567890ABCD", strings.Repeat("x", 64), strings.Repeat("x", 63)}
	for round := 1; round <= 2; round++ {
		for i, id := range ids {
			col.member([]byte(id)).purchases++
			if got := len(col.members); got != max(i+1, len(ids)*(round-1)) {
				t.Fatalf("round %d, %q: %d members", round, id, got)
			}
		}
	}
	for i, id := range ids {
		if m := col.member([]byte(id)); m.purchases != 2 {
			t.Errorf("%q (%d bytes): %d purchases, want 2 (member %d)", id, len(id), m.purchases, i)
		}
	}
}

// TestNewMembersAllocateNoStringEach: a member's first appearance costs no
// allocation of its own (the index grows in doublings): 4096 new members
// take far fewer than 4096 allocations.
func TestNewMembersAllocateNoStringEach(t *testing.T) {
	allocs := testing.AllocsPerRun(3, func() { collectorOfMembers(t, 4096) })
	t.Logf("%.0f allocations for 4096 new members", allocs)
	if allocs > 1024 {
		t.Errorf("%.0f allocations for 4096 new members, want at most 1024 (a quarter of one a member)", allocs)
	}
}
