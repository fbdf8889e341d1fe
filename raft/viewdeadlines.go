package raft

import "math"

// viewDeadlines holds, per member whose published view shows a plan, the
// clock at which that view changes by the clock alone (the plan's end,
// engine.Figures): a binary min-heap that knows each member's position, so
// a republished member's deadline is moved or removed in place. At most one
// item per member: 16 bytes per member with a plan, plus 4 bytes of
// position per member index up to the highest one queued.
type viewDeadlines struct {
	items []viewDeadline
	pos   []int32 // per member index: 1 + its item's index in items; 0: none
}

type viewDeadline struct {
	atMS   int64
	member int32
}

func (q *viewDeadlines) len() int          { return len(q.items) }
func (q *viewDeadlines) top() viewDeadline { return q.items[0] }

func (q *viewDeadlines) reset() { q.items, q.pos = q.items[:0], q.pos[:0] }

// set makes member mi's deadline atMS; math.MaxInt64 removes it.
func (q *viewDeadlines) set(mi int32, atMS int64) {
	p := 0
	if int(mi) < len(q.pos) {
		p = int(q.pos[mi])
	}
	switch {
	case p == 0 && atMS == math.MaxInt64:
	case p == 0:
		if n := int(mi) + 1; n > len(q.pos) {
			q.pos = append(q.pos, make([]int32, n-len(q.pos))...)
		}
		q.items = append(q.items, viewDeadline{atMS: atMS, member: mi})
		q.pos[mi] = int32(len(q.items))
		q.up(len(q.items) - 1)
	case atMS == math.MaxInt64:
		q.remove(p - 1)
	case atMS != q.items[p-1].atMS:
		q.items[p-1].atMS = atMS
		q.down(q.up(p - 1))
	}
}

func (q *viewDeadlines) remove(i int) {
	last := len(q.items) - 1
	q.pos[q.items[i].member] = 0
	if i != last {
		q.items[i] = q.items[last]
		q.pos[q.items[i].member] = int32(i + 1)
	}
	q.items = q.items[:last]
	if i != last {
		q.down(q.up(i))
	}
}

func (q *viewDeadlines) swap(i, j int) {
	q.items[i], q.items[j] = q.items[j], q.items[i]
	q.pos[q.items[i].member] = int32(i + 1)
	q.pos[q.items[j].member] = int32(j + 1)
}

// up moves item i toward the root while it is earlier than its parent and
// returns where it stopped.
func (q *viewDeadlines) up(i int) int {
	for i > 0 {
		parent := (i - 1) / 2
		if q.items[parent].atMS <= q.items[i].atMS {
			break
		}
		q.swap(i, parent)
		i = parent
	}
	return i
}

func (q *viewDeadlines) down(i int) {
	for {
		least := i
		for _, c := range [2]int{2*i + 1, 2*i + 2} {
			if c < len(q.items) && q.items[c].atMS < q.items[least].atMS {
				least = c
			}
		}
		if least == i {
			return
		}
		q.swap(i, least)
		i = least
	}
}
