package engine

import (
	"math/rand/v2"
	"strconv"
	"syscall"
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
			x.insert([]byte(keys[v]), v)
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

// BenchmarkHashIndexInsert inserts b.N distinct keys into one index, its
// rebuilds included (an op is one insert); cpu-ns/op is the process's CPU
// time, which a loaded machine does not inflate as it does ns/op.
func BenchmarkHashIndexInsert(b *testing.B) {
	keys := make([][]byte, b.N)
	for i := range keys {
		keys[i] = []byte("cmd-" + strconv.Itoa(i*7919))
	}
	x := newHashIndex()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := rusageCPUNS(b)
	for i, k := range keys {
		x.insert(k, int32(i))
	}
	b.ReportMetric(float64(rusageCPUNS(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// rusageCPUNS is the CPU time (user + system) the process has used.
func rusageCPUNS(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkHashIndexFind finds existing keys in random order in an index
// of 3M keys (an op is one find), for comparing layouts of the table.
func BenchmarkHashIndexFind(b *testing.B) {
	const n = 3_000_000
	keys := make(sliceKeys, n)
	for i := range keys {
		keys[i] = "cmd-" + strconv.Itoa(i*7919)
	}
	x := newHashIndex()
	for i := range keys {
		x.insert([]byte(keys[i]), int32(i))
	}
	r := rand.New(rand.NewPCG(1, 2))
	probe := make([][]byte, b.N)
	for i := range probe {
		probe[i] = []byte(keys[r.IntN(n)])
	}
	var src keySource = keys
	b.ResetTimer()
	cpu0 := rusageCPUNS(b)
	for _, k := range probe {
		if _, ok := x.find(src, k); !ok {
			b.Fatal("lost")
		}
	}
	b.ReportMetric(float64(rusageCPUNS(b)-cpu0)/float64(b.N), "cpu-ns/op")
}
