package engine

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

type sliceKeys []string

func (k sliceKeys) keyOf(v int32) string { return k[v] }

// TestHashIndexMatchesAMap: random inserts and removals (the steady state
// of a store-backed engine: one record in, one evicted) find exactly what a
// map holds, through tombstones, their reuse and the rebuilds.
func TestHashIndexMatchesAMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := newHashIndex()
	var keys sliceKeys
	model := map[string]int32{}
	var live []int32
	for step := range 200_000 {
		if len(live) > 0 && (len(live) > 3000 || r.IntN(2) == 0) {
			k := r.IntN(len(live))
			v := live[k]
			live[k] = live[len(live)-1]
			live = live[:len(live)-1]
			x.remove(keys[v], v)
			delete(model, keys[v])
		} else {
			v := int32(len(keys))
			keys = append(keys, "id-"+strconv.Itoa(step))
			x.insert(keys, []byte(keys[v]), v)
			model[keys[v]] = v
			live = append(live, v)
		}
		if step%997 == 0 {
			for _, probe := range []int{r.IntN(len(keys)), len(keys) - 1} {
				got, ok := x.find(keys, []byte(keys[probe]))
				want, wantOK := model[keys[probe]]
				if ok != wantOK || (ok && got != want) {
					t.Fatalf("step %d: find %q = %d %v, want %d %v", step, keys[probe], got, ok, want, wantOK)
				}
			}
		}
	}
	if x.count != len(model) {
		t.Fatalf("count %d, map holds %d", x.count, len(model))
	}
	if len(x.slots) > 16384 {
		t.Fatalf("%d slots for at most 3000 live keys: tombstones are not reclaimed", len(x.slots))
	}
	for k, v := range model {
		if got, ok := x.find(keys, []byte(k)); !ok || got != v {
			t.Fatalf("find %q = %d %v, want %d", k, got, ok, v)
		}
	}
}
