package engine

// Lifecycle (SPEC §4): bringing a member to a time. The tick queue, that
// tells a tick whom to bring, is in due.go.

// bring brings member mi to time t (SPEC §4 steps 1, 1b, 2, 3, 4).
func (e *Engine) bring(mi int32, t int64) {
	m := e.members.at(mi)
	e.touch(mi)
	e.mature(m, mi, t)
	e.releaseDue(m, mi, t)
	e.repayDebt(m)
	e.expire(m, mi, t)
	e.rollYear(m, t)
}

// Pending lots mature in index order: they are created at non-decreasing
// times with the same pending_days (referral lots share their purchase's
// date), and every other lot is available at once. So maturation stops at
// the first pending lot not yet due, and costs what falls due.
func (e *Engine) mature(m *member, mi int32, t int64) {
	lots := m.lots()
	i := int(m.pendFrom)
	for ; i < len(lots); i++ {
		l := lots[i]
		if !l.pending() {
			continue
		}
		if l.matureAtMS > t {
			break
		}
		e.record(KindMature, l.matureAtMS, memberAcct(AccountMemberAvailable, mi), memberAcct(AccountMemberPending, mi), l.points)
		m.add(bPending, -l.points)
		m.add(bAvail, l.points)
		l.matureAtMS = maturedMark
		e.setLot(m, i, l)
	}
	for int(m.pendFrom) < len(lots) && !lots[m.pendFrom].pending() {
		m.pendFrom++
	}
}

func (e *Engine) releaseDue(m *member, mi int32, t int64) {
	if m.ext == nil || len(m.ext.holds) == 0 {
		return
	}
	hs := m.ext.holds
	for k := 0; k < len(hs); k++ {
		h := e.holds.at(int32(hs[k]))
		if h.deadlineMS > t {
			continue
		}
		e.giveBack(m, e.parts[h.partsOff:h.partsOff+h.partsLen])
		m.ext.held -= h.points
		e.record(KindRelease, h.deadlineMS, memberAcct(AccountMemberAvailable, mi), memberAcct(AccountMemberHeld, mi), h.points)
		if e.emit {
			if e.undoing {
				e.undoHolds = append(e.undoHolds, hs[k])
			}
			h.open = false
			hs = append(hs[:k], hs[k+1:]...)
			k--
		}
	}
	if e.emit {
		m.ext.holds = hs
	}
}

func (e *Engine) expire(m *member, mi int32, t int64) {
	if m.get(bAvail) == 0 {
		return
	}
	switch e.prog.ExpiryMode {
	case ExpiryLot, ExpiryAnnual:
		lots := m.lots()
		for i := int(m.liveFrom); i < len(lots); i++ {
			l := lots[i]
			if l.expiresAtMS > t {
				if !m.unsorted() {
					break // every later lot expires later still
				}
				continue
			}
			if l.pending() || l.points == 0 {
				continue
			}
			e.record(KindExpire, l.expiresAtMS, breakageAcct, memberAcct(AccountMemberAvailable, mi), l.points)
			m.add(bAvail, -l.points)
			if e.emit {
				e.breakage += l.points
			}
			l.points = 0
			e.setLot(m, i, l)
		}
	case ExpiryInactivity:
		dueMS := m.lastActivityMS + e.prog.ExpiryDays*msPerDay
		if dueMS > t {
			return
		}
		lots := m.lots()
		for i := int(m.liveFrom); i < len(lots); i++ {
			if l := lots[i]; !l.pending() && l.points != 0 {
				l.points = 0
				e.setLot(m, i, l)
			}
		}
		e.record(KindExpire, dueMS, breakageAcct, memberAcct(AccountMemberAvailable, mi), m.get(bAvail))
		if e.emit {
			e.breakage += m.get(bAvail)
		}
		m.set(bAvail, 0)
	}
	e.compact(m)
}

func (e *Engine) rollYear(m *member, t int64) {
	y := yearOf(t) // 0 … 9999: parseRFC3339 reads four digits
	if y <= m.year() {
		return
	}
	if y == m.year()+1 {
		m.carried = uint8(e.prog.levelFor(m.get(bMetric)))
	} else {
		m.carried = 0
	}
	m.set(bMetric, 0)
	m.setYear(y)
}

func (m *member) earnedThisMonth(t int64) int64 {
	if int64(m.month) != monthKey(t) {
		return 0
	}
	return m.get(bMonthEarned)
}

func (e *Engine) activity(m *member, mi int32, t int64) {
	m.lastActivityMS = t
	if e.prog.ExpiryMode == ExpiryInactivity {
		e.due.lower(mi, t+e.prog.ExpiryDays*msPerDay)
	}
}
