package engine

// The tick queue: whom a tick brings (SPEC §4: a tick brings every member
// to its time, which changes only the members with something due).
//
// The queue holds at most one item per member, so its size follows the
// members, not their history. A member's item is never later than its
// next due event (nextDueMS): what a command adds that falls due (a lot,
// a hold, returned points, activity in inactivity mode) lowers the item
// (dueQueue.lower); what a command spends, releases or brings early leaves
// it where it was, early. What bring itself makes due (a matured lot's
// expiry, a released hold's points) comes after what it did, which the
// item was no later than, so bring queues nothing, and neither can a
// catch-up that is rolled back. A tick takes the items due; an early one
// moves to its member's real next due time, and a member is brought only
// when its item is that time. So a tick brings exactly the members with
// something due, in the order of (next due time, member index): a
// function of the members' state alone, whatever the queue's history.
// That is why a snapshot does not store the queue: Restore rebuilds it
// from the members.

// dueItem is one member's place in the tick queue: nothing of member is due
// before dueMS.
type dueItem struct {
	dueMS  int64
	member int32
}

// before orders the queue: by time, ties by member index, so that a tick's
// order is defined whatever order the items came in.
func (a dueItem) before(b dueItem) bool {
	return a.dueMS < b.dueMS || a.dueMS == b.dueMS && a.member < b.member
}

// dueQueue is a binary min-heap of dueItem that knows each member's
// position, so that a member's item is lowered, moved or removed in place
// (written out to avoid the interface boxing of container/heap).
type dueQueue struct {
	items []dueItem
	pos   []int32 // per member index: 1 + its item's index in items; 0: none
}

func (q *dueQueue) len() int     { return len(q.items) }
func (q *dueQueue) top() dueItem { return q.items[0] }

// at returns 1 + the index of member mi's item, or 0.
func (q *dueQueue) at(mi int32) int {
	if int(mi) >= len(q.pos) {
		return 0
	}
	return int(q.pos[mi])
}

// lower makes member mi's item no later than dueMS (neverMS: nothing).
func (q *dueQueue) lower(mi int32, dueMS int64) {
	if dueMS == neverMS {
		return
	}
	if p := q.at(mi); p != 0 {
		if dueMS < q.items[p-1].dueMS {
			q.items[p-1].dueMS = dueMS
			q.up(p - 1)
		}
		return
	}
	if n := int(mi) + 1; n > len(q.pos) {
		q.pos = append(q.pos, make([]int32, n-len(q.pos))...)
	}
	q.items = append(q.items, dueItem{dueMS: dueMS, member: mi})
	q.pos[mi] = int32(len(q.items))
	q.up(len(q.items) - 1)
}

// set makes member mi's item dueMS, or removes it when dueMS is neverMS.
func (q *dueQueue) set(mi int32, dueMS int64) {
	p := q.at(mi)
	switch {
	case p == 0:
		q.lower(mi, dueMS)
	case dueMS == neverMS:
		q.remove(p - 1)
	default:
		old := q.items[p-1]
		q.items[p-1].dueMS = dueMS
		if q.items[p-1].before(old) {
			q.up(p - 1)
		} else {
			q.down(p - 1)
		}
	}
}

func (q *dueQueue) remove(i int) {
	n := len(q.items) - 1
	q.pos[q.items[i].member] = 0
	if i != n {
		q.items[i] = q.items[n]
		q.pos[q.items[i].member] = int32(i + 1)
	}
	q.items = q.items[:n]
	if i < n {
		q.down(i)
		q.up(i)
	}
}

func (q *dueQueue) swap(i, j int) {
	s := q.items
	s[i], s[j] = s[j], s[i]
	q.pos[s[i].member] = int32(i + 1)
	q.pos[s[j].member] = int32(j + 1)
}

func (q *dueQueue) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !q.items[i].before(q.items[p]) {
			return
		}
		q.swap(i, p)
		i = p
	}
}

func (q *dueQueue) down(i int) {
	s := q.items
	n := len(s)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if r := c + 1; r < n && s[r].before(s[c]) {
			c = r
		}
		if !s[c].before(s[i]) {
			return
		}
		q.swap(i, c)
		i = c
	}
}

// nextDueMS is the time of member m's first due event, the first thing
// bring would do (lifecycle.go): a pending lot's maturity, a hold's
// deadline, or an expiry of available points; neverMS when nothing falls
// due without a command.
func (e *Engine) nextDueMS(m *member) int64 {
	d := int64(neverMS)
	lots := m.lots()
	for i := int(m.pendFrom); i < len(lots); i++ {
		if l := &lots[i]; l.pending() {
			d = l.matureAtMS // pending lots mature in index order (mature)
			break
		}
	}
	if m.ext != nil {
		for _, h := range m.ext.holds {
			d = min(d, e.holds.at(int32(h)).deadlineMS)
		}
	}
	if m.get(bAvail) == 0 {
		return d // expire has nothing to take
	}
	switch e.prog.ExpiryMode {
	case ExpiryInactivity:
		d = min(d, m.lastActivityMS+e.prog.ExpiryDays*msPerDay)
	case ExpiryLot, ExpiryAnnual:
		for i := int(m.liveFrom); i < len(lots); i++ {
			if l := &lots[i]; !l.pending() && l.points > 0 {
				d = min(d, l.expiresAtMS)
				if !m.unsorted() {
					break // every later lot expires later still
				}
			}
		}
	}
	return d
}

// availableDueMS is when points made available now in lot l of member m
// expire, as expire reads it.
func (e *Engine) availableDueMS(m *member, l lot) int64 {
	switch e.prog.ExpiryMode {
	case ExpiryInactivity:
		return m.lastActivityMS + e.prog.ExpiryDays*msPerDay
	case ExpiryLot, ExpiryAnnual:
		return l.expiresAtMS
	}
	return neverMS
}

// requeueAll lowers every member's item to its next due time: after a
// Restore, whose snapshot has no queue, and when a program change changes
// what falls due when.
func (e *Engine) requeueAll() {
	for mi := 0; mi < e.members.len(); mi++ {
		e.due.lower(int32(mi), e.nextDueMS(e.members.at(int32(mi))))
	}
}

// tick brings every member with something due by t to t (SPEC §4), in the
// order of (next due time, member index); see the top of the file.
func (e *Engine) tick(t int64) {
	for e.due.len() > 0 && e.due.top().dueMS <= t {
		it := e.due.top()
		m := e.members.at(it.member)
		if d := e.nextDueMS(m); d != it.dueMS {
			// Early: what was due then was spent, dropped or brought by a
			// command. Its place is at the member's next due time.
			e.due.set(it.member, d)
			continue
		}
		e.bring(it.member, t)
		// bring has done everything due by t, so the next due time is
		// later; the max only keeps a tick finite should the two disagree.
		e.due.set(it.member, max(e.nextDueMS(m), t+1))
	}
}
