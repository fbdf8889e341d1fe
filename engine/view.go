package engine

// Views: a member brought to t without changing anything.

// quiet reports whether bringing m to t would change nothing: no lot to
// mature or expire, no hold or inactivity deadline, no new year. Views of
// quiet members (the usual case, since a touched member was just brought
// to the clock) need no copy of their lots.
func (e *Engine) quiet(m *member, t int64) bool {
	lots := m.lots()
	if m.year() != yearOf(t) {
		return false
	}
	if int(m.pendFrom) < len(lots) && lots[m.pendFrom].matureAtMS <= t {
		return false
	}
	if m.ext != nil {
		for _, h := range m.ext.holds {
			if e.holds.at(int32(h)).deadlineMS <= t {
				return false
			}
		}
	}
	if m.get(bAvail) == 0 {
		return true
	}
	switch e.prog.ExpiryMode {
	case ExpiryInactivity:
		return m.lastActivityMS+e.prog.ExpiryDays*msPerDay > t
	case ExpiryLot, ExpiryAnnual:
		if m.unsorted() {
			return false
		}
		for i := int(m.liveFrom); i < len(lots); i++ {
			l := &lots[i]
			if !l.pending() && l.points > 0 {
				return l.expiresAtMS > t // the earliest expiry of all
			}
		}
	}
	return true
}

// view returns member mi brought to t, without writing anything: the
// member itself when nothing is due (callers only read it), else a copy.
func (e *Engine) view(mi int32, t int64) *member {
	m := e.members.at(mi)
	if e.quiet(m, t) {
		return m
	}
	e.viewM = *m
	e.viewLots = append(e.viewLots[:0], m.lots()...)
	e.viewM.setLots(e.viewLots)
	if m.ext != nil {
		// Bringing the copy changes its debt and held points: they go to
		// a copy of ext (whose slices the view only reads).
		e.viewExt = *m.ext
		e.viewM.ext = &e.viewExt
	}
	saved := e.emit
	e.emit = false
	v := &e.viewM
	e.mature(v, mi, t)
	e.releaseDue(v, mi, t)
	e.repayDebt(v)
	e.expire(v, mi, t)
	e.rollYear(v, t)
	e.emit = saved
	return v
}

// ViewFigures is a member's view (MemberView without its id and lots) in
// figures: the tier and the plan as indexes into the program's Levels and
// Plans, which a program change keeps in place (Compatible), so a store of
// many views holds no strings and no pointers.
type ViewFigures struct {
	Available, Pending, Held, Earned, Redeemed, Expired int64
	Plan                                                int32 // index into Plans; -1: none
	Tier                                                uint8 // index into Levels
}

// Figures returns member mi's view at the clock in figures, the member's
// id (the engine's own bytes, not a copy), and the clock from which this
// view changes by the clock alone (math.MaxInt64: never), leaving out
// what a tick brings (a lot that matures or expires, a hold that ends: the
// tick touches the member, see Touched) and the start of the next UTC year
// (which changes every member's tier figures): that is the end of the
// member's plan.
func (e *Engine) Figures(mi int32) (f ViewFigures, id string, changesAtMS int64) {
	t := e.ClockMS()
	v := e.view(mi, t)
	f = ViewFigures{
		Available: v.available(), Pending: v.get(bPending), Held: v.held(),
		Earned: v.get(bEarned), Redeemed: v.get(bRedeemed), Expired: v.expiredPoints(),
		Plan: -1, Tier: e.tierOf(v),
	}
	changesAtMS = neverMS
	if x := v.ext; x != nil && x.plan >= 0 && t < x.planUntilMS {
		f.Plan, changesAtMS = x.plan, x.planUntilMS
	}
	return f, e.nameOf(v), changesAtMS
}

// MemberView returns the view f is of member id, its names read from p:
// the program f was computed under or a later one (which keeps the
// indexes' names).
func (f *ViewFigures) MemberView(id string, p *Program) MemberView {
	v := MemberView{
		Member: id, Available: f.Available, Pending: f.Pending, Held: f.Held,
		Tier: p.Levels[f.Tier].Name, Earned: f.Earned, Redeemed: f.Redeemed, Expired: f.Expired,
	}
	if f.Plan >= 0 {
		v.Plan = p.Plans[f.Plan].ID
	}
	return v
}
