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
