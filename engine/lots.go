package engine

// Lots: adding them, taking points from them in consumption order, giving
// points back, and dropping the empty ones from the front.
//
// Dropping: once the empty matured lots before liveFrom are at least half
// of a member's lots, they go, and lotBase counts them, so the indices that
// purchases and parts keep stay valid. A dropped lot is empty and matured,
// and what the rules still need of it is known without it: a refund
// claws back nothing from it (refund), and a cancellation or release gives
// points back to it with the expiry its part kept (revive). Dropping keeps
// the last lot (addLot compares with its expiry) and never runs during a
// catch-up that may be rolled back, nor in a view.

// minDropLots is the fewest lots a drop removes, so that small members are
// never copied; a drop that leaves fewer than 1/shrinkLots of the slice's
// capacity moves the lots to a slice twice their number, so that a
// member's capacity follows its live lots too (amortised like append's
// growth: a slice shrinks at most once per halving of its lots).
const (
	minDropLots = 4
	shrinkLots  = 4
)

// hasLot reports whether absolute lot index a was ever made: lots before
// lotBase were dropped, which the rules allow for (see above).
func (m *member) hasLot(a int32) bool { return a >= 0 && int(a) < int(m.lotBase)+len(m.lots()) }

// setLot changes lots[i], logging its old value while a catch-up may still
// be rolled back.
func (e *Engine) setLot(m *member, i int, l lot) {
	if e.undoing {
		e.undoLots = append(e.undoLots, lotUndo{idx: m.lotBase + int32(i), old: m.lots()[i]})
	}
	m.lots()[i] = l
}

// dropLots drops the empty matured lots before liveFrom (and pendFrom)
// once they are at least half of the member's lots; see the top of file.
func (e *Engine) dropLots(m *member) {
	lots := m.lots()
	k := min(int(m.liveFrom), int(m.pendFrom), len(lots)-1)
	if k < minDropLots || 2*k < len(lots) || !e.emit || e.undoing || e.keepLots {
		return
	}
	if n := len(lots) - k; cap(lots) >= shrinkLots*n && cap(lots) >= shrinkLots*minDropLots {
		// Live lots fell far below the slice's peak: give the rest back.
		m.setLots(append(make([]lot, 0, 2*n), lots[k:]...))
	} else {
		m.setLots(lots[:copy(lots, lots[k:])])
	}
	m.lotBase += int32(k)
	m.liveFrom -= int32(k)
	m.pendFrom -= int32(k)
}

// lotFor returns the index into m.lots() of part p's lot, first bringing it
// back (empty, matured) if the member dropped it. The lots between it and
// lotBase come back empty too, with p's expiry, no later than theirs
// (unless the member's lots are unsorted, where expire stops nowhere); an
// empty lot is skipped everywhere but in expire's early stop, which then
// has stopped at p's lot already. Whoever gives points back to a lot sets
// its expiry from the part, so a lot brought back empty gets its own. It
// allocates a new slice, so a catch-up's rollback finds its old lots
// untouched.
func (e *Engine) lotFor(m *member, p part) int {
	a := int32(p.lot)
	if a >= m.lotBase {
		return int(a - m.lotBase)
	}
	k := int(m.lotBase - a)
	n := k + len(m.lots())
	lots := make([]lot, n, n+n/4+1)
	for j := 0; j < k; j++ {
		lots[j] = lot{matureAtMS: maturedMark, expiresAtMS: p.expiresAtMS}
	}
	copy(lots[k:], m.lots())
	m.setLots(lots)
	m.lotBase = a
	m.liveFrom += int32(k)
	m.pendFrom += int32(k)
	return 0
}

// addLot creates a lot and queues its maturation or expiry.
func (e *Engine) addLot(m *member, mi int32, points, matureAtMS, expiresAtMS, t int64) int32 {
	lots := m.lots()
	idx := m.lotBase + int32(len(lots))
	if n := len(lots); n > 0 && expiresAtMS < lots[n-1].expiresAtMS {
		m.yf |= memberUnsorted
	}
	l := lot{points: points, matureAtMS: matureAtMS, expiresAtMS: expiresAtMS}
	if matureAtMS <= t {
		l.matureAtMS = maturedMark
		m.add(bAvail, points)
		e.due.lower(mi, e.availableDueMS(m, l))
	} else {
		m.add(bPending, points)
		e.due.lower(mi, matureAtMS)
	}
	m.setLots(append(lots, l))
	return idx
}

// giveBack returns parts to the lots they came from (which had matured).
func (e *Engine) giveBack(m *member, ps []part) {
	for _, p := range ps {
		i := e.lotFor(m, p)
		l := m.lots()[i]
		l.points += p.points
		l.expiresAtMS = p.expiresAtMS // the same, unless lotFor made the lot empty
		e.setLot(m, i, l)
		m.add(bAvail, p.points)
		if int32(i) < m.liveFrom {
			m.liveFrom = int32(i)
		}
	}
}

// nextAvailable returns the index of the next available lot holding points
// after position k of the consumption order (earliest expires_at first,
// ties oldest first), or -1. Lots are in that order by index unless a
// transfer brought in an earlier expiry (m.unsorted()); then e.order holds it.
func (e *Engine) nextAvailable(m *member, k *int) int {
	lots := m.lots()
	if m.unsorted() {
		for *k < len(e.order) {
			i := int(e.order[*k])
			*k++
			if lots[i].points > 0 {
				return i
			}
		}
		return -1
	}
	for *k < len(lots) {
		i := *k
		*k++
		if l := &lots[i]; !l.pending() && l.points > 0 {
			return i
		}
	}
	return -1
}

// startAvailable begins a walk in consumption order; see nextAvailable.
func (e *Engine) startAvailable(m *member) int {
	lots := m.lots()
	if !m.unsorted() {
		return int(m.liveFrom)
	}
	o := e.order[:0]
	for i := int(m.liveFrom); i < len(lots); i++ {
		l := &lots[i]
		if !l.pending() && l.points > 0 {
			o = append(o, int32(i))
		}
	}
	for i := 1; i < len(o); i++ {
		x := o[i]
		xe := lots[x].expiresAtMS
		j := i - 1
		for j >= 0 && lots[o[j]].expiresAtMS > xe {
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
		l := m.lots()[i]
		n := min(l.points, want-got)
		l.points -= n
		e.setLot(m, i, l)
		m.add(bAvail, -n)
		got += n
		if keep {
			e.parts = append(e.parts, part{lot: uint32(m.lotBase) + uint32(i), points: n, expiresAtMS: l.expiresAtMS})
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
	if m.debt() == 0 || m.get(bAvail) == 0 {
		return
	}
	m.ext.debt -= e.take(m, m.ext.debt, false)
}

// compact advances liveFrom past lots that are empty and matured, and
// drops them when they are enough.
func (e *Engine) compact(m *member) {
	for lots := m.lots(); int(m.liveFrom) < len(lots); {
		l := &lots[m.liveFrom]
		if l.points != 0 || l.pending() {
			break
		}
		m.liveFrom++
	}
	e.dropLots(m)
}
