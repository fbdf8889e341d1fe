package engine

// Lots: adding them, taking points from them in consumption order, and
// giving points back.

// setLot changes a lot, logging its old value while a catch-up may still be
// rolled back.
func (e *Engine) setLot(m *member, i int, l lot) {
	if e.undoing {
		e.undoLots = append(e.undoLots, lotUndo{idx: int32(i), old: m.lots[i]})
	}
	m.lots[i] = l
}

// addLot creates a lot and queues its maturation or expiry.
func (e *Engine) addLot(m *member, mi int32, points, matureAtMS, expiresAtMS, t int64) int32 {
	idx := int32(len(m.lots))
	if n := len(m.lots); n > 0 && expiresAtMS < m.lots[n-1].expiresAtMS {
		m.unsorted = true
	}
	l := lot{points: points, matureAtMS: matureAtMS, expiresAtMS: expiresAtMS}
	if matureAtMS <= t {
		l.matureAtMS = maturedMark
		m.avail += points
		if expiresAtMS != neverMS {
			e.due.push(dueItem{dueMS: expiresAtMS, member: mi})
		}
	} else {
		m.pending += points
		e.due.push(dueItem{dueMS: matureAtMS, member: mi})
	}
	m.lots = append(m.lots, l)
	return idx
}

// giveBack returns parts to the lots they came from (which had matured).
func (e *Engine) giveBack(m *member, ps []part) {
	for _, p := range ps {
		l := m.lots[p.lot]
		l.points += p.points
		e.setLot(m, int(p.lot), l)
		m.avail += p.points
		if int32(p.lot) < m.liveFrom {
			m.liveFrom = int32(p.lot)
		}
	}
}

// nextAvailable returns the index of the next available lot holding points
// after position k of the consumption order (earliest expires_at first,
// ties oldest first), or -1. Lots are in that order by index unless a
// transfer brought in an earlier expiry (m.unsorted); then e.order holds it.
func (e *Engine) nextAvailable(m *member, k *int) int {
	if m.unsorted {
		for *k < len(e.order) {
			i := int(e.order[*k])
			*k++
			if m.lots[i].points > 0 {
				return i
			}
		}
		return -1
	}
	for *k < len(m.lots) {
		i := *k
		*k++
		if l := &m.lots[i]; !l.pending() && l.points > 0 {
			return i
		}
	}
	return -1
}

// startAvailable begins a walk in consumption order; see nextAvailable.
func (e *Engine) startAvailable(m *member) int {
	if !m.unsorted {
		return int(m.liveFrom)
	}
	o := e.order[:0]
	for i := int(m.liveFrom); i < len(m.lots); i++ {
		l := &m.lots[i]
		if !l.pending() && l.points > 0 {
			o = append(o, int32(i))
		}
	}
	for i := 1; i < len(o); i++ {
		x := o[i]
		xe := m.lots[x].expiresAtMS
		j := i - 1
		for j >= 0 && m.lots[o[j]].expiresAtMS > xe {
			o[j+1] = o[j]
			j--
		}
		o[j+1] = x
	}
	e.order = o
	return 0
}

// take removes up to want points from available lots in consumption order,
// appending the parts to e.parts when keep is set; it returns what it took.
func (e *Engine) take(m *member, want int64, keep bool) int64 {
	var got int64
	for k := e.startAvailable(m); got < want; {
		i := e.nextAvailable(m, &k)
		if i < 0 {
			break
		}
		l := m.lots[i]
		n := min(l.points, want-got)
		l.points -= n
		e.setLot(m, i, l)
		m.avail -= n
		got += n
		if keep {
			e.parts = append(e.parts, part{lot: uint32(i), points: n})
		}
	}
	e.compact(m)
	return got
}

// consume takes points from available lots, earliest expiry first, and
// returns what it could not take.
func (e *Engine) consume(m *member, points int64, keep bool) int64 {
	return points - e.take(m, points, keep)
}

func (e *Engine) repayDebt(m *member) {
	if m.debt == 0 || m.avail == 0 {
		return
	}
	m.debt -= e.take(m, m.debt, false)
}

// compact advances liveFrom past lots that are empty and matured.
func (e *Engine) compact(m *member) {
	for int(m.liveFrom) < len(m.lots) {
		l := &m.lots[m.liveFrom]
		if l.points != 0 || l.pending() {
			return
		}
		m.liveFrom++
	}
}
