package insight

import (
	"bytes"
	"strings"
	"testing"

	"github.com/accrual/accrual/engine"
)

// retailProgram: 1 point per 100 and a launch campaign of 10 bonus points
// a purchase in January, with the given budget line; a catalogue.
func retailProgram(t *testing.T, id, budget string) *engine.Program {
	t.Helper()
	p, err := engine.ParseProgram([]byte(`
program: ` + id + `
currency: EUR
earn: {rate: {points: 1, per: 100}}
partners: [{id: shop}]
campaigns:
  - {id: launch, from: 2026-01-01T00:00:00Z, to: 2026-02-01T00:00:00Z, bonus_points: 10` + budget + `}
rewards:
  - {id: mug, points: 30, partner: shop, stock: 2}
  - {id: bag, points: 50, partner: shop}
`))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func decode(lines ...string) []engine.Command {
	var dec engine.Decoder
	cmds := make([]engine.Command, len(lines))
	for i, l := range lines {
		dec.Decode([]byte(l), &cmds[i])
	}
	return cmds
}

// Purchases of 10000 on 1, 2, 3 and 4 January: 10 bonus points each, so
// a budget of 25 is spent 10, 20, then the last 5 on 3 January.
var launchDays = []string{
	`{"type":"purchase","id":"p1","member":"alice","partner":"shop","amount":10000,"at":"2026-01-01T10:00:00Z"}`,
	`{"type":"purchase","id":"p2","member":"bob","partner":"shop","amount":10000,"at":"2026-01-02T10:00:00Z"}`,
	`{"type":"purchase","id":"p3","member":"carol","partner":"shop","amount":10000,"at":"2026-01-03T10:00:00Z"}`,
	`{"type":"purchase","id":"p4","member":"dave","partner":"shop","amount":10000,"at":"2026-01-04T10:00:00Z"}`,
}

func TestKPIsShowBudgetsAndStock(t *testing.T) {
	prog := retailProgram(t, "kpis", ", budget_points: 25")
	eng, col := engine.New(prog), NewCollector(prog)
	cmds := decode(append(launchDays,
		`{"type":"claim","id":"c1","member":"alice","reward":"mug","at":"2026-01-05T00:00:00Z"}`,
		`{"type":"claim","id":"c2","member":"bob","reward":"bag","at":"2026-01-05T00:00:00Z"}`)...)
	res, ents := eng.Apply(cmds, nil, nil)
	col.Observe(cmds, res, ents)
	k := Compute(col, eng, Options{PointValueMinor: 1})
	if want := []Budget{{Campaign: "launch", BudgetPoints: 25, Spent: 25, Left: 0}}; len(k.Budgets) != 1 || k.Budgets[0] != want[0] {
		t.Errorf("budgets %+v, want %+v", k.Budgets, want)
	}
	if len(k.Catalogue) != 2 {
		t.Fatalf("catalogue %+v", k.Catalogue)
	}
	mug, bag := k.Catalogue[0], k.Catalogue[1]
	if mug.Reward != "mug" || mug.Claimed != 1 || mug.Left == nil || *mug.Left != 1 {
		t.Errorf("mug %+v: want 1 claimed, 1 left", mug)
	}
	if bag.Reward != "bag" || bag.Claimed != 1 || bag.Left != nil {
		t.Errorf("bag %+v: want 1 claimed, no stock limit", bag)
	}
	var text bytes.Buffer
	if err := k.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CAMPAIGN BUDGETS", "launch", "REWARDS", "unlimited"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q", want)
		}
	}
}

func TestKPIsWithoutRetailHaveNoBudgets(t *testing.T) {
	prog, err := engine.ParseProgram([]byte("program: plain\nearn: {rate: {points: 1, per: 100}}\npartners: [{id: shop}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	k := Compute(nil, engine.New(prog), Options{})
	if k.Budgets != nil || k.Catalogue != nil {
		t.Errorf("budgets %+v, catalogue %+v: want none", k.Budgets, k.Catalogue)
	}
}

// The day a candidate's budget runs out, with all days in one batch: the
// simulation must apply a day at a time to know it.
func TestSimBudgetRunsOutOnDay(t *testing.T) {
	cases := []struct {
		name, budget string
		want         BudgetRun
	}{
		{"spent on the third day", ", budget_points: 25",
			BudgetRun{Spent: 25, Left: 0, BudgetPoints: 25, RunsOutOn: "2026-01-03", CampaignDay: 3}},
		{"spent exactly on the first day", ", budget_points: 10",
			BudgetRun{Spent: 10, Left: 0, BudgetPoints: 10, RunsOutOn: "2026-01-01", CampaignDay: 1}},
		{"not spent in the history", ", budget_points: 1000",
			BudgetRun{Spent: 40, Left: 960, BudgetPoints: 1000}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim := NewSim(retailProgram(t, "current", ""), retailProgram(t, "candidate", c.budget))
			sim.Apply(decode(launchDays...))
			d := sim.Report(5, 1)
			if len(d.BudgetsCurrent) != 0 {
				t.Errorf("current program has no budget, got %+v", d.BudgetsCurrent)
			}
			if len(d.BudgetsCandidate) != 1 {
				t.Fatalf("candidate budgets %+v", d.BudgetsCandidate)
			}
			c.want.Campaign, c.want.From, c.want.To = "launch", "2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z"
			if got := d.BudgetsCandidate[0]; got != c.want {
				t.Errorf("got %+v\nwant %+v", got, c.want)
			}
			if d.Zero() {
				t.Error("a budget that differs is a difference")
			}
			var text bytes.Buffer
			if err := d.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			wantText := "not in this history"
			if c.want.RunsOutOn != "" {
				wantText = c.want.RunsOutOn + " (day "
			}
			if !strings.Contains(text.String(), wantText) {
				t.Errorf("text report lacks %q:\n%s", wantText, text.String())
			}
		})
	}
}
