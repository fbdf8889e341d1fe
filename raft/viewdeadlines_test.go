package raft

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestViewDeadlinesKeepTheEarliest: under random sets, moves and removals
// the queue's top is the earliest deadline of a model map, each member has
// at most one item, and popping by republishing empties it in order.
func TestViewDeadlinesKeepTheEarliest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var q viewDeadlines
	model := map[int32]int64{}
	for step := range 20000 {
		mi := int32(rng.IntN(300))
		at := int64(rng.IntN(1000))
		if rng.IntN(3) == 0 {
			at = math.MaxInt64
			delete(model, mi)
		} else {
			model[mi] = at
		}
		q.set(mi, at)
		if q.len() != len(model) {
			t.Fatalf("step %d: %d items, model %d", step, q.len(), len(model))
		}
		if q.len() > 0 {
			earliest := int64(math.MaxInt64)
			for _, a := range model {
				earliest = min(earliest, a)
			}
			if top := q.top(); top.atMS != earliest || model[top.member] != earliest {
				t.Fatalf("step %d: top %+v, earliest %d", step, top, earliest)
			}
		}
	}
	last := int64(-1)
	for q.len() > 0 {
		top := q.top()
		if top.atMS < last {
			t.Fatalf("popped %d after %d", top.atMS, last)
		}
		last = top.atMS
		q.set(top.member, math.MaxInt64)
	}
}
