package engine

// Member lookup and creation, the per-Apply touched list, and tiers.

// idKeys and memberKeys let the indexes read keys back from the engine.
type idKeys struct{ e *Engine }

func (k idKeys) keyOf(v int32) string { return k.e.recs.at(v).id }

type memberKeys struct{ e *Engine }

func (k memberKeys) keyOf(v int32) string { return k.e.nameOf(k.e.members.at(v)) }

// nameOf returns m's id, backed by the engine's name store.
func (e *Engine) nameOf(m *member) string { return e.mnames.str(m.nameRef()) }

func (e *Engine) lookup(name []byte) int32 {
	if i, ok := e.byName.find(memberKeys{e}, name); ok {
		return i
	}
	return -1
}

func (e *Engine) create(name []byte, t int64) int32 {
	m := member{month: int32(monthKey(t)), lastActivityMS: t}
	m.setName(e.mnames.add(name))
	m.setYear(yearOf(t))
	mi := e.members.add(m)
	e.byName.insert(name, mi)
	e.touch(mi)
	return mi
}

func (e *Engine) dropLast() {
	last := int32(e.members.len() - 1)
	if n := len(e.touched); n > 0 && e.touched[n-1] == last {
		e.touched = e.touched[:n-1]
		e.touchedSet[last>>6] &^= 1 << (last & 63)
	}
	e.byName.remove(e.nameOf(e.members.at(last)), last)
	e.members.pop()
}

// touch adds mi to the touched list once per Apply: touchedSet has one bit
// per member (a 4-byte epoch in every member cost 32 times as much).
func (e *Engine) touch(mi int32) {
	w := int(mi >> 6)
	for w >= len(e.touchedSet) {
		e.touchedSet = append(e.touchedSet, 0)
	}
	if bit := uint64(1) << (mi & 63); e.touchedSet[w]&bit == 0 {
		e.touchedSet[w] |= bit
		e.touched = append(e.touched, mi)
	}
}

// untouchAll empties the touched list at the start of an Apply.
func (e *Engine) untouchAll() {
	for _, mi := range e.touched {
		e.touchedSet[mi>>6] &^= 1 << (mi & 63)
	}
	e.touched = e.touched[:0]
}

// Touched returns the members the last Apply touched (read them with View
// before the next Apply).
func (e *Engine) Touched() []int32 { return e.touched }

func (e *Engine) lookupOrCreate(name []byte, t int64) int32 {
	if mi := e.lookup(name); mi >= 0 {
		return mi
	}
	return e.create(name, t)
}

// ext returns m's §9 state, making it if need be.
func (e *Engine) ext(m *member) *memberExt {
	x := m.spare()
	x.sec9 = true
	return x
}

func (e *Engine) addDebt(m *member, points int64) {
	if points != 0 {
		m.spare().debt += points
	}
}

func (e *Engine) addHeld(m *member, points int64) {
	if points != 0 {
		m.spare().held += points
	}
}

func (e *Engine) tierOf(m *member) uint8 {
	lv := uint8(e.prog.levelFor(m.get(bMetric)))
	if m.carried > lv {
		return m.carried
	}
	return lv
}
