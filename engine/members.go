package engine

// Member lookup and creation, the per-Apply touched list, and tiers.

// idKeys and memberKeys let the indexes read keys back from the engine.
type idKeys struct{ e *Engine }

func (k idKeys) keyOf(v int32) string { return k.e.recs.at(v).id }

type memberKeys struct{ e *Engine }

func (k memberKeys) keyOf(v int32) string { return k.e.members.at(v).name }

func (e *Engine) lookup(name []byte) int32 {
	if i, ok := e.byName.find(memberKeys{e}, name); ok {
		return i
	}
	return -1
}

func (e *Engine) create(name []byte, t int64) int32 {
	s := e.names.str(name)
	mi := e.members.add(member{
		name:           s,
		year:           int16(yearOf(t)),
		month:          int32(monthKey(t)),
		lastActivityMS: t,
	})
	e.byName.insert(memberKeys{e}, name, mi)
	e.touch(e.members.at(mi), mi)
	return mi
}

func (e *Engine) dropLast() {
	last := int32(e.members.len() - 1)
	if n := len(e.touched); n > 0 && e.touched[n-1] == last {
		e.touched = e.touched[:n-1]
	}
	e.byName.remove(e.members.at(last).name, last)
	e.members.pop()
}

func (e *Engine) touch(m *member, mi int32) {
	if m.touched != e.epoch {
		m.touched = e.epoch
		e.touched = append(e.touched, mi)
	}
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

func (e *Engine) ext(m *member) *memberExt {
	if m.ext == nil {
		m.ext = &memberExt{plan: -1, referrer: -1}
	}
	return m.ext
}

func (e *Engine) tierOf(m *member) uint8 {
	lv := uint8(e.prog.levelFor(m.metric))
	if m.carried > lv {
		return m.carried
	}
	return lv
}
