package chaos

import (
	"fmt"
	"sort"

	"github.com/anishathalye/porcupine"
)

// checkCounter decides linearizability of a counter history exactly and in
// O(n log n), where porcupine's general search can time out on long runs.
// Each write (+1) returns the counter after it, so its output fixes its
// place in any linearization: write k is the k-th. A history is
// linearizable iff linearization points can be chosen, increasing with k,
// each inside its operation's [call, return], with a read of value v placed
// after write v and before write v+1. Choosing every write's point as early
// as allowed leaves the most room, so one greedy pass decides it: a read of
// k−1 takes effect just after max(its call, write k−1), and write k just
// after max(its call, write k−1, those reads); each must fall before its
// return.
func checkCounter(ops []porcupine.Operation) error {
	var writes []porcupine.Operation
	readsOf := map[int64][]porcupine.Operation{}
	for _, op := range ops {
		v := op.Output.(int64)
		if op.Input.(hotInput).Write {
			writes = append(writes, op)
		} else {
			readsOf[v] = append(readsOf[v], op)
		}
	}
	sort.Slice(writes, func(i, j int) bool { return writes[i].Output.(int64) < writes[j].Output.(int64) })
	for i, w := range writes {
		if w.Output.(int64) != int64(i+1) {
			return fmt.Errorf("write outputs are not 1…%d: the %d-th is %d", len(writes), i+1, w.Output)
		}
	}
	n := int64(len(writes))
	for v := range readsOf {
		if v < 0 || v > n {
			return fmt.Errorf("a read returned %d with %d writes", v, n)
		}
	}
	// A point is a time plus a count of infinitesimal steps after it: every
	// operation takes effect strictly inside (call, return), and several
	// can take effect, in order, within the same nanosecond.
	type point struct{ t, eps int64 }
	later := func(a, b point) point {
		if a.t > b.t || (a.t == b.t && a.eps > b.eps) {
			return a
		}
		return b
	}
	after := func(a point) point { return point{a.t, a.eps + 1} }
	prev := point{-1 << 62, 0}
	readsFit := func(v int64) (point, error) {
		last := prev
		for _, r := range readsOf[v] {
			rp := after(later(point{r.Call, 0}, prev))
			if rp.t >= r.Return {
				return last, fmt.Errorf("a read returned %d (call %d, return %d) before it could see write %d", v, r.Call, r.Return, v)
			}
			last = later(last, rp)
		}
		return last, nil
	}
	for k := int64(1); k <= n; k++ {
		w := writes[k-1]
		lastRead, err := readsFit(k - 1)
		if err != nil {
			return err
		}
		p := after(later(later(point{w.Call, 0}, prev), lastRead))
		if p.t >= w.Return {
			return fmt.Errorf("write %d (call %d, return %d) cannot take effect after write %d and the reads of %d", k, w.Call, w.Return, k-1, k-1)
		}
		prev = p
	}
	if _, err := readsFit(n); err != nil {
		return err
	}
	return nil
}
