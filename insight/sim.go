package insight

import (
	"cmp"
	"slices"
	"sync"

	"github.com/accrual/accrual/engine"
)

// side is one engine of a simulation with what is aggregated as it runs.
type side struct {
	eng      *engine.Engine
	results  []engine.Result
	entries  []engine.Entry
	pfs      []PartnerFigures // by partner index of this side's program
	watch    *budgetWatch
	accepted int64
	rejected int64
}

func newSide(p *engine.Program) *side {
	s := &side{eng: engine.New(p), pfs: make([]PartnerFigures, len(p.Partners)), watch: newBudgetWatch(p)}
	for i := range p.Partners {
		s.pfs[i].Partner = p.Partners[i].ID
	}
	return s
}

// apply applies one batch; while a budget is left to watch, a UTC day at
// a time, so that the day a budget runs out is known to the day.
func (s *side) apply(cmds []engine.Command) {
	s.results, s.entries = s.results[:0], s.entries[:0]
	for len(cmds) > 0 {
		n := len(cmds)
		if s.watch.open > 0 {
			n = sameDay(cmds)
		}
		s.results, s.entries = s.eng.Apply(cmds[:n], s.results, s.entries)
		if s.watch.open > 0 {
			s.watch.check(s.eng, cmds[n-1].AtMS)
		}
		cmds = cmds[n:]
	}
	for i := range s.entries {
		e := &s.entries[i]
		if e.Credit.Kind == engine.AccountPartnerIssued {
			s.pfs[e.Credit.Ref].Issued += e.Points
		}
		if e.Debit.Kind == engine.AccountPartnerIssued {
			s.pfs[e.Debit.Ref].ClawedBack += e.Points
		}
		if e.Debit.Kind == engine.AccountPartnerRedeemed {
			s.pfs[e.Debit.Ref].Redeemed += e.Points
		}
		if e.Credit.Kind == engine.AccountPartnerRedeemed {
			s.pfs[e.Credit.Ref].Returned += e.Points
		}
	}
}

// Sim replays one history under two programs at once: the current one (A)
// and a candidate (B), on the same decoded batches, the two engines in
// parallel.
type Sim struct {
	a, b *side
	// per-command comparison
	commands     int64
	statusDiffer int64 // accepted under one program, rejected under the other
	pointsDiffer int64 // accepted under both, with a different points change
}

// NewSim returns a simulation of candidate against current.
func NewSim(current, candidate *engine.Program) *Sim {
	return &Sim{a: newSide(current), b: newSide(candidate)}
}

// Engines returns the engines of the current and the candidate program.
func (s *Sim) Engines() (current, candidate *engine.Engine) { return s.a.eng, s.b.eng }

// Results returns the results of the last Apply: current, candidate.
func (s *Sim) Results() (current, candidate []engine.Result) { return s.a.results, s.b.results }

// Apply applies one batch to both engines. cmds is only read, so both
// engines share it.
func (s *Sim) Apply(cmds []engine.Command) {
	var wg sync.WaitGroup
	wg.Go(func() { s.b.apply(cmds) })
	s.a.apply(cmds)
	wg.Wait()
	s.commands += int64(len(cmds))
	ra, rb := s.a.results, s.b.results
	for i := range ra {
		x, y := &ra[i], &rb[i]
		if x.OK() {
			s.a.accepted++
		} else {
			s.a.rejected++
		}
		if y.OK() {
			s.b.accepted++
		} else {
			s.b.rejected++
		}
		switch {
		case x.OK() != y.OK():
			s.statusDiffer++
		case x.OK() && x.Points != y.Points:
			s.pointsDiffer++
		}
	}
}

// Figure is one number under both programs.
type Figure struct {
	Current   int64 `json:"current"`
	Candidate int64 `json:"candidate"`
	Delta     int64 `json:"delta"`
}

func fig(a, b int64) Figure { return Figure{Current: a, Candidate: b, Delta: b - a} }

// Rate is one ratio under both programs.
type Rate struct {
	Current   float64 `json:"current"`
	Candidate float64 `json:"candidate"`
	Delta     float64 `json:"delta"`
}

// MemberDelta is one member's balance (available + pending + held) under
// both programs, with its tier.
type MemberDelta struct {
	Member        string `json:"member"`
	Current       int64  `json:"current"`
	Candidate     int64  `json:"candidate"`
	Delta         int64  `json:"delta"`
	TierCurrent   string `json:"tier_current"`
	TierCandidate string `json:"tier_candidate"`
}

// TierDelta is the members of one tier under both programs.
type TierDelta struct {
	Tier string `json:"tier"`
	Figure
}

// PartnerDelta is one partner's figures under both programs.
type PartnerDelta struct {
	Partner  string `json:"partner"`
	Issued   Figure `json:"issued"`
	Redeemed Figure `json:"redeemed"` // net of cancellations
	Net      Figure `json:"net"`
}

// Diff is the report of a simulation; docs/INSIGHT.md defines each field.
type Diff struct {
	Current         string  `json:"current"`
	Candidate       string  `json:"candidate"`
	Clock           string  `json:"clock"`
	PointValueMinor float64 `json:"point_value_minor"`
	Commands        int64   `json:"commands"`
	Accepted        Figure  `json:"accepted"`
	Rejected        Figure  `json:"rejected"`
	StatusDiffer    int64   `json:"commands_status_differ"`
	PointsDiffer    int64   `json:"commands_points_differ"`

	Members        Figure `json:"members"`
	Issued         Figure `json:"issued"`
	Rewards        Figure `json:"rewards"`
	Adjustments    Figure `json:"adjustments"`
	Redeemed       Figure `json:"redeemed"`
	Breakage       Figure `json:"breakage"`
	Liability      Figure `json:"liability"`
	LiabilityMoney Figure `json:"liability_money_minor"`
	RedemptionRate Rate   `json:"redemption_rate"`
	BreakageRate   Rate   `json:"breakage_rate"`

	MembersChanged int64          `json:"members_balance_changed"`
	Tiers          []TierDelta    `json:"tiers"`
	TopMembers     []MemberDelta  `json:"top_members"`
	Partners       []PartnerDelta `json:"partners"`

	// The budgeted campaigns of each program (SPEC §10.1): what they spent
	// and the day they ran out.
	BudgetsCurrent   []BudgetRun `json:"budgets_current,omitempty"`
	BudgetsCandidate []BudgetRun `json:"budgets_candidate,omitempty"`
}

// Zero reports whether the candidate changed nothing at all.
func (d *Diff) Zero() bool {
	if d.StatusDiffer != 0 || d.PointsDiffer != 0 || d.MembersChanged != 0 || len(d.TopMembers) != 0 {
		return false
	}
	for _, f := range []Figure{d.Accepted, d.Rejected, d.Members, d.Issued, d.Rewards, d.Adjustments,
		d.Redeemed, d.Breakage, d.Liability, d.LiabilityMoney} {
		if f.Delta != 0 {
			return false
		}
	}
	if d.RedemptionRate.Delta != 0 || d.BreakageRate.Delta != 0 || !slices.Equal(d.BudgetsCurrent, d.BudgetsCandidate) {
		return false
	}
	for _, t := range d.Tiers {
		if t.Delta != 0 {
			return false
		}
	}
	for _, p := range d.Partners {
		if p.Issued.Delta != 0 || p.Redeemed.Delta != 0 || p.Net.Delta != 0 {
			return false
		}
	}
	return true
}

type dumped struct {
	name    string
	balance int64
	tier    string
}

func dumpAll(e *engine.Engine) []dumped {
	out := make([]dumped, 0, e.Members())
	_ = e.Dump(func(v *engine.MemberView) error {
		out = append(out, dumped{v.Member, v.Available + v.Pending + v.Held, v.Tier})
		return nil
	})
	return out
}

// Report compares the two engines at their clocks. top is the number of
// members with the largest balance change to list (20 if <= 0).
func (s *Sim) Report(top int, pointValueMinor float64) *Diff {
	if top <= 0 {
		top = 20
	}
	ea, eb := s.a.eng, s.b.eng
	ta, tb := ea.Totals(), eb.Totals()
	d := &Diff{Current: ea.Program().ID, Candidate: eb.Program().ID, Clock: engine.FormatTime(ea.ClockMS()),
		PointValueMinor: pointValueMinor, Commands: s.commands,
		Accepted: fig(s.a.accepted, s.b.accepted), Rejected: fig(s.a.rejected, s.b.rejected),
		StatusDiffer: s.statusDiffer, PointsDiffer: s.pointsDiffer,
		Members: fig(int64(ta.Members), int64(tb.Members)), Issued: fig(ta.Issued, tb.Issued),
		Rewards: fig(ta.Rewards, tb.Rewards), Adjustments: fig(ta.Adjustments, tb.Adjustments),
		Redeemed: fig(ta.Redeemed, tb.Redeemed),
	}
	rate := func(a, b float64) Rate { return Rate{a, b, b - a} }
	earnedA, earnedB := ta.Issued+ta.Rewards+ta.Adjustments, tb.Issued+tb.Rewards+tb.Adjustments
	d.RedemptionRate = rate(ratio(ta.Redeemed, earnedA), ratio(tb.Redeemed, earnedB))

	// Members: merge the two sorted dumps (views at the clock).
	var da, db []dumped
	var wg sync.WaitGroup
	wg.Go(func() { db = dumpAll(eb) })
	da = dumpAll(ea)
	wg.Wait()
	// Liability and breakage at the clock, as insight.Compute: the running
	// totals lag by the expiries no tick has written yet.
	var balA, balB int64
	for i := range da {
		balA += da[i].balance
	}
	for i := range db {
		balB += db[i].balance
	}
	d.Breakage = fig(ta.Breakage+ta.Outstanding-balA, tb.Breakage+tb.Outstanding-balB)
	d.Liability = fig(balA, balB)
	d.LiabilityMoney = fig(money(balA, pointValueMinor), money(balB, pointValueMinor))
	d.BreakageRate = rate(ratio(d.Breakage.Current, earnedA), ratio(d.Breakage.Candidate, earnedB))
	d.compareMembers(da, db, ea.Program(), eb.Program(), top)
	d.Partners = comparePartners(s.a.pfs, s.b.pfs)
	d.BudgetsCurrent, d.BudgetsCandidate = s.a.watch.final(ea), s.b.watch.final(eb)
	return d
}

// tierTally counts members per tier under both programs, tiers in the
// order first named.
type tierTally struct {
	tiers map[string]*TierDelta
	order []string
}

func (tt *tierTally) get(name string) *TierDelta {
	t := tt.tiers[name]
	if t == nil {
		t = &TierDelta{Tier: name}
		tt.tiers[name] = t
		tt.order = append(tt.order, name)
	}
	return t
}

// topMembers keeps the top members by balance change, and counts the
// members whose balance changed at all.
type topMembers struct {
	top     int
	best    []MemberDelta // a min-heap would do; top is small, keep it sorted
	changed int64
}

// worse orders members: larger |delta| first, then member id.
func worse(x, y *MemberDelta) int {
	ax, ay := abs(x.Delta), abs(y.Delta)
	if ax != ay {
		return cmp.Compare(ay, ax)
	}
	return cmp.Compare(x.Member, y.Member)
}

func (tm *topMembers) consider(m MemberDelta) {
	if m.Delta == 0 {
		return
	}
	tm.changed++
	if len(tm.best) == tm.top && worse(&m, &tm.best[tm.top-1]) >= 0 {
		return
	}
	i, _ := slices.BinarySearchFunc(tm.best, &m, func(e MemberDelta, t *MemberDelta) int { return worse(&e, t) })
	tm.best = slices.Insert(tm.best, i, m)
	if len(tm.best) > tm.top {
		tm.best = tm.best[:tm.top]
	}
}

// compareMembers merges the two dumps (sorted by member): the tiers, the
// members whose balance changed and the top of them.
func (d *Diff) compareMembers(da, db []dumped, pa, pb *engine.Program, top int) {
	tt := &tierTally{tiers: map[string]*TierDelta{}}
	for _, l := range pa.Levels {
		tt.get(l.Name)
	}
	for _, l := range pb.Levels {
		tt.get(l.Name)
	}
	tm := &topMembers{top: top}
	i, j := 0, 0
	for i < len(da) || j < len(db) {
		var m MemberDelta
		switch {
		case j == len(db) || i < len(da) && da[i].name < db[j].name:
			m = MemberDelta{Member: da[i].name, Current: da[i].balance, TierCurrent: da[i].tier}
			tt.get(da[i].tier).Current++
			i++
		case i == len(da) || db[j].name < da[i].name:
			m = MemberDelta{Member: db[j].name, Candidate: db[j].balance, TierCandidate: db[j].tier}
			tt.get(db[j].tier).Candidate++
			j++
		default:
			m = MemberDelta{Member: da[i].name, Current: da[i].balance, Candidate: db[j].balance,
				TierCurrent: da[i].tier, TierCandidate: db[j].tier}
			tt.get(da[i].tier).Current++
			tt.get(db[j].tier).Candidate++
			i++
			j++
		}
		m.Delta = m.Candidate - m.Current
		tm.consider(m)
	}
	d.MembersChanged += tm.changed
	d.TopMembers = tm.best
	for _, name := range tt.order {
		t := tt.tiers[name]
		t.Delta = t.Candidate - t.Current
		d.Tiers = append(d.Tiers, *t)
	}
}

// comparePartners lists the partners of either program by id, with their
// figures under both.
func comparePartners(pfsA, pfsB []PartnerFigures) []PartnerDelta {
	byID := map[string]*PartnerDelta{}
	var ids []string
	get := func(id string) *PartnerDelta {
		p := byID[id]
		if p == nil {
			p = &PartnerDelta{Partner: id}
			byID[id] = p
			ids = append(ids, id)
		}
		return p
	}
	for _, f := range pfsA {
		p := get(f.Partner)
		p.Issued.Current = f.Issued - f.ClawedBack
		p.Redeemed.Current = f.Redeemed - f.Returned
		p.Net.Current = f.Issued - f.ClawedBack - f.Redeemed + f.Returned
	}
	for _, f := range pfsB {
		p := get(f.Partner)
		p.Issued.Candidate = f.Issued - f.ClawedBack
		p.Redeemed.Candidate = f.Redeemed - f.Returned
		p.Net.Candidate = f.Issued - f.ClawedBack - f.Redeemed + f.Returned
	}
	slices.Sort(ids)
	var out []PartnerDelta
	for _, id := range ids {
		p := byID[id]
		p.Issued.Delta = p.Issued.Candidate - p.Issued.Current
		p.Redeemed.Delta = p.Redeemed.Candidate - p.Redeemed.Current
		p.Net.Delta = p.Net.Candidate - p.Net.Current
		out = append(out, *p)
	}
	return out
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
