package ledger

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"sort"
	"syscall"
	"testing"
	"time"
)

var benchN = flag.Int("ledger.benchn", 1_000_000, "entries in the BenchmarkStatement ledger")

// BenchmarkAppend appends batches of 1k and 10k entries (100k members,
// 8 partners), NoSync and Sync, and reports entries/s. A memtable insert
// costs more the fuller the memtable (a longer skiplist search), so it also
// reports the MiB written (through the WAL into memtables) and the flushes:
// a run whose MiB stay well under the 64 MiB memtable measured a nearly
// empty one (use -benchtime 400x or more at batch=1000).
func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{1_000, 10_000} {
		for _, sync := range []bool{false, true} {
			b.Run(fmt.Sprintf("batch=%d/sync=%v", size, sync), func(b *testing.B) {
				l, err := Open(b.TempDir(), Options{Sync: sync})
				if err != nil {
					b.Fatal(err)
				}
				defer l.Close()
				g := newGen(1, 100_000, 8)
				batches := make([][]Entry, 16)
				for i := range batches {
					batches[i] = g.batch(size)
				}
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := processCPUNS(b)
				n := 0
				for i := 0; i < b.N; i++ {
					es := batches[i%len(batches)]
					if err := l.Append(uint64(i+1), es); err != nil {
						b.Fatal(err)
					}
					n += len(es)
				}
				b.StopTimer()
				b.ReportMetric(float64(processCPUNS(b)-cpu0)/float64(n), "cpu-ns/entry")
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/entry")
				m := l.db.Metrics()
				b.ReportMetric(float64(m.WAL.BytesIn)/(1<<20), "MiB-written")
				b.ReportMetric(float64(m.Flush.Count), "flushes")
			})
		}
	}
}

// BenchmarkStatement builds a ledger of -ledger.benchn entries, compacts it,
// reports bytes on disk per entry and the p50/p99 latency of 100-entry
// statement pages and of BalanceAt.
func BenchmarkStatement(b *testing.B) {
	dir := b.TempDir()
	l, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	n := *benchN
	g := newGen(7, max(n/200, 10), 8)
	start := time.Now()
	for pos := uint64(1); l.LastSeq() < uint64(n); pos++ {
		if err := l.Append(pos, g.batch(10_000)); err != nil {
			b.Fatal(err)
		}
	}
	build := time.Since(start)
	if err := l.db.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := l.db.Compact(context.Background(), []byte{0}, []byte{0xff}, true); err != nil {
		b.Fatal(err)
	}
	tables := l.db.Metrics().Total().TablesSize
	entries := l.LastSeq()
	rng := rand.New(rand.NewPCG(1, 2))
	lat := make([]time.Duration, 0, b.N)
	blat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := g.members[rng.IntN(len(g.members))]
		t0 := time.Now()
		p, err := l.Statement(m, StatementQuery{Limit: 100})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		if len(p.Entries) == 0 {
			b.Fatal("empty statement")
		}
		t0 = time.Now()
		if _, _, _, err := l.BalanceAt(m, g.clock-int64(rng.IntN(30))*dayMS); err != nil {
			b.Fatal(err)
		}
		blat = append(blat, time.Since(t0))
	}
	b.StopTimer()
	pct := func(d []time.Duration, q float64) float64 {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return float64(d[min(len(d)-1, int(q*float64(len(d))))].Microseconds())
	}
	b.ReportMetric(pct(lat, 0.50), "stmt-p50-µs")
	b.ReportMetric(pct(lat, 0.99), "stmt-p99-µs")
	b.ReportMetric(pct(blat, 0.50), "balanceAt-p50-µs")
	b.ReportMetric(pct(blat, 0.99), "balanceAt-p99-µs")
	b.ReportMetric(float64(tables)/float64(entries), "disk-B/entry")
	b.ReportMetric(float64(entries)/build.Seconds(), "build-entries/s")
}

// BenchmarkChanges reads the change feed (Changes, pages of 1000, each
// entry with its members' balances) of a 200k-entry ledger (20k members)
// and reports entries/s: what one GET /v1/changes reader can take from the
// ledger, to compare with the rate a node writes entries.
func BenchmarkChanges(b *testing.B) {
	l, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	g := newGen(11, 20_000, 8)
	for i := 0; i < 200; i++ {
		if err := l.Append(uint64(i+1), g.batch(1000)); err != nil {
			b.Fatal(err)
		}
	}
	last := l.LastSeq()
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		after := uint64(i*1000) % (last - 1000)
		got, err := l.Changes(after, 1000, func(c *Change) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		n += got
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/entry")
}

// processCPUNS is the process's CPU time (user + system, every thread:
// Pebble's flushes and compactions included), the figure a loaded shared
// machine cannot inflate the way it inflates wall-clock time.
func processCPUNS(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
