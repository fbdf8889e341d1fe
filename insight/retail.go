package insight

import "github.com/accrual/accrual/engine"

// SPEC §10 in the KPIs and the simulation: campaign budgets spent and left,
// the reward catalogue's stock, and the day a budget runs out.

// Budget is a campaign's budget at the clock (SPEC §10.1).
type Budget struct {
	Campaign     string `json:"campaign"`
	BudgetPoints int64  `json:"budget_points"`
	Spent        int64  `json:"spent"`
	Left         int64  `json:"left"`
}

// Reward is a reward of the catalogue at the clock (SPEC §10.5): its
// claims not cancelled and, for a limited stock, what is left (absent:
// unlimited).
type Reward struct {
	Reward  string `json:"reward"`
	Partner string `json:"partner"`
	Points  int64  `json:"points"`
	Stock   int64  `json:"stock"` // 0: unlimited
	Claimed int64  `json:"claimed"`
	Left    *int64 `json:"left,omitempty"`
}

// budgets lists every campaign of the engine's program that has a budget.
func budgets(eng *engine.Engine) []Budget {
	var out []Budget
	for _, b := range eng.Budgets() {
		out = append(out, Budget{Campaign: b.Campaign, BudgetPoints: b.Budget, Spent: b.Spent, Left: b.Left})
	}
	return out
}

// catalogue lists every reward of the engine's program.
func catalogue(eng *engine.Engine) []Reward {
	var out []Reward
	for _, w := range eng.Stock() {
		r := Reward{Reward: w.Reward, Partner: w.Partner, Points: w.Points, Stock: w.Stock, Claimed: w.Claimed}
		if w.Stock > 0 {
			r.Left = &w.Left
		}
		out = append(out, r)
	}
	return out
}

// BudgetRun is how a budgeted campaign fared over a simulated history:
// what it spent and, if it ran out, on which UTC day (the day of the
// commands whose purchases spent its last points) and on which day of the
// campaign (1 = its first day).
type BudgetRun struct {
	Campaign     string `json:"campaign"`
	From         string `json:"from"`
	To           string `json:"to"`
	BudgetPoints int64  `json:"budget_points"`
	Spent        int64  `json:"spent"`
	Left         int64  `json:"left"`
	RunsOutOn    string `json:"runs_out_on,omitempty"` // "2026-03-14"; absent: it did not run out
	CampaignDay  int64  `json:"runs_out_campaign_day,omitempty"`
}

// budgetWatch follows the budgeted campaigns of one engine's program and
// notes the day each runs out.
type budgetWatch struct {
	runs []BudgetRun
	from []int64 // campaign start, ms, by run
	open int     // runs that have not run out
}

func newBudgetWatch(p *engine.Program) *budgetWatch {
	w := &budgetWatch{}
	for i := range p.Campaigns {
		c := &p.Campaigns[i]
		if c.BudgetPoints > 0 {
			w.runs = append(w.runs, BudgetRun{Campaign: c.ID, From: engine.FormatTime(c.FromMS),
				To: engine.FormatTime(c.ToMS), BudgetPoints: c.BudgetPoints, Left: c.BudgetPoints})
			w.from = append(w.from, c.FromMS)
		}
	}
	w.open = len(w.runs)
	return w
}

// check reads the engine's budgets after the commands of the UTC day of
// atMS were applied. It matches campaigns by id, since a program change in
// the history may reorder or drop them.
func (w *budgetWatch) check(eng *engine.Engine, atMS int64) {
	for _, b := range eng.Budgets() {
		i := w.index(b.Campaign)
		if i < 0 {
			continue
		}
		r := &w.runs[i]
		r.Spent, r.Left = b.Spent, b.Left
		if r.Left == 0 && r.RunsOutOn == "" {
			day := floorDiv(atMS, dayMS)
			r.RunsOutOn = engine.FormatTime(day * dayMS)[:len("2006-01-02")]
			r.CampaignDay = day - floorDiv(w.from[i], dayMS) + 1
			w.open--
		}
	}
}

func (w *budgetWatch) index(campaign string) int {
	for i := range w.runs {
		if w.runs[i].Campaign == campaign {
			return i
		}
	}
	return -1
}

// sameDay is the length of the run of commands at the start of cmds whose
// `at` falls on the UTC day of the first.
func sameDay(cmds []engine.Command) int {
	day := floorDiv(cmds[0].AtMS, dayMS)
	n := 1
	for n < len(cmds) && floorDiv(cmds[n].AtMS, dayMS) == day {
		n++
	}
	return n
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// final returns the runs with what each campaign spent by the end of the
// history.
func (w *budgetWatch) final(eng *engine.Engine) []BudgetRun {
	for _, b := range eng.Budgets() {
		if i := w.index(b.Campaign); i >= 0 {
			w.runs[i].Spent, w.runs[i].Left = b.Spent, b.Left
		}
	}
	return w.runs
}
