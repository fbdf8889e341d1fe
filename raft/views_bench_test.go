package raft

import (
	"runtime"
	"testing"

	"github.com/accrual/accrual/engine"
)

// viewBenchMembers is how many members the view benchmarks publish over:
// more than a cache holds, as on a node.
const viewBenchMembers = 100_000

// BenchmarkPublishView: the cost of publishing one touched, known member's
// view after a batch (the view at the clock, then the store's put), over
// members in a spread order. It allocates nothing.
func BenchmarkPublishView(b *testing.B) {
	p := loadProgram(b, "coalition")
	f := newBareFSM(b, p)
	fillMembers(b, f, p, viewBenchMembers)
	f.lw.drain() // the ledger writer's work is not the views'
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
	for i := range b.N {
		f.publish(int32(uint32(i) * 7919 % viewBenchMembers))
	}
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkViewStorePut: the store's part of a publication, a put of a
// known member's figures (an array write under a striped lock), over
// members in a spread order. It allocates nothing.
func BenchmarkViewStorePut(b *testing.B) {
	p := loadProgram(b, "coalition")
	f := newBareFSM(b, p)
	fillMembers(b, f, p, viewBenchMembers)
	f.lw.drain()
	figs := make([]engine.ViewFigures, viewBenchMembers)
	ids := make([]string, viewBenchMembers)
	for mi := range int32(viewBenchMembers) {
		figs[mi], ids[mi], _ = f.eng.Figures(mi)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
	for i := range b.N {
		mi := int32(uint32(i) * 7919 % viewBenchMembers)
		f.views.put(mi, ids[mi], &figs[mi])
	}
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkViewBytesPerMember reports the heap a store of published views
// holds per member: grown member by member as a node's is, and presized
// as a restore makes it (bytes-grown/member, bytes-restored/member).
func BenchmarkViewBytesPerMember(b *testing.B) {
	p := loadProgram(b, "coalition")
	f := newBareFSM(b, p)
	fillMembers(b, f, p, viewBenchMembers)
	var grown, restored float64
	for range b.N {
		f.views = nil
		before := heapBytes()
		f.views = newViewStore(p)
		for mi := range int32(viewBenchMembers) {
			f.publish(mi)
		}
		grown = float64(heapBytes()-before) / viewBenchMembers
		f.views = nil
		before = heapBytes()
		f.views = newViewStore(p)
		f.views.reset(viewBenchMembers, p)
		for mi := range int32(viewBenchMembers) {
			f.publish(mi)
		}
		restored = float64(heapBytes()-before) / viewBenchMembers
	}
	b.ReportMetric(grown, "bytes-grown/member")
	b.ReportMetric(restored, "bytes-restored/member")
}

func heapBytes() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
