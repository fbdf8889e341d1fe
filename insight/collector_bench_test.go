package insight

import (
	"runtime"
	"strconv"
	"syscall"
	"testing"

	"github.com/accrual/accrual/bench/workload"
	"github.com/accrual/accrual/engine"
)

// appliedBatch is one batch of commands as a node's apply path hands it to
// the collector: the commands, their results and the entries.
type appliedBatch struct {
	cmds    []engine.Command
	results []engine.Result
	entries []engine.Entry
}

// applyPayback generates n commands of the payback stream (its default
// 35M-member universe, as `accrual bench` sends), applies them in batches
// of 4096 and keeps every batch for the collector.
func applyPayback(b *testing.B, n int) (*engine.Program, []appliedBatch) {
	const size = 4096
	cfg := workload.DefaultConfig(workload.Payback)
	cfg.Seed = 1
	gen, err := workload.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	prog, err := engine.ParseProgram(gen.Program())
	if err != nil {
		b.Fatal(err)
	}
	eng := engine.New(prog)
	var out []appliedBatch
	for done := 0; done < n; done += size {
		var dec engine.Decoder // each batch keeps its own lines
		ab := appliedBatch{cmds: make([]engine.Command, size)}
		for i := range ab.cmds {
			dec.Decode(gen.Next(nil), &ab.cmds[i])
		}
		ab.results, ab.entries = eng.Apply(ab.cmds, nil, nil)
		out = append(out, ab)
	}
	return prog, out
}

// BenchmarkCollectorObserve feeds a Collector the payback stream as a node
// does after each Apply: op = one command (with its result and entries),
// 400k commands a pass, as in the node runs of "Cost of one command".
// Each pass over the stream starts a fresh collector (untimed), so
// allocs/op include the members' first appearance, amortised.
func BenchmarkCollectorObserve(b *testing.B) {
	prog, batches := applyPayback(b, 400_000)
	col := NewCollector(prog)
	b.ReportAllocs()
	b.ResetTimer()
	done, k, cpuNS := 0, 0, int64(0)
	for done < b.N {
		if k == len(batches) {
			b.StopTimer()
			col, k = NewCollector(prog), 0
			b.StartTimer()
		}
		ab := &batches[k]
		cpu0 := processCPUNS(b)
		col.Observe(ab.cmds, ab.results, ab.entries)
		cpuNS += processCPUNS(b) - cpu0
		done += len(ab.cmds)
		k++
	}
	b.StopTimer()
	b.ReportMetric(float64(done)/b.Elapsed().Seconds(), "cmds/s")
	b.ReportMetric(float64(cpuNS)/float64(done), "cpu-ns/cmd")
	b.ReportMetric(float64(len(col.members)), "members")
}

// processCPUNS is the CPU time (user + system) the process has used.
func processCPUNS(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// collectorOfMembers returns a collector that has seen one purchase each
// by n distinct members, named as the payback stream names them.
func collectorOfMembers(tb testing.TB, n int) *Collector {
	p, err := engine.ParseProgram([]byte("program: gc\nearn: {rate: {points: 1, per: 100}}\npartners: [{id: shop}]\n"))
	if err != nil {
		tb.Fatal(err)
	}
	col := NewCollector(p)
	cmd := engine.Command{Type: engine.TypePurchase, Partner: []byte("shop"), Amount: 100}
	cmd.SetAt(1_767_225_600_000)
	var r engine.Result
	name := make([]byte, 0, 16)
	for i := 0; i < n; i++ {
		name = strconv.AppendInt(append(name[:0], "M0"...), int64(10_000_000+i), 10)
		cmd.Member = name
		col.ObserveCommand(&cmd, &r)
	}
	return col
}

// BenchmarkCollectorGC is one full garbage collection with a collector
// of 1M members live: what the members' index adds to every GC cycle of
// a node (the GC marks what holds pointers, a string per member included).
func BenchmarkCollectorGC(b *testing.B) {
	col := collectorOfMembers(b, 1_000_000)
	runtime.GC()
	b.ResetTimer()
	cpu0 := processCPUNS(b)
	for i := 0; i < b.N; i++ {
		runtime.GC()
	}
	b.ReportMetric(float64(processCPUNS(b)-cpu0)/float64(b.N), "cpu-ns/gc")
	runtime.KeepAlive(col)
}
