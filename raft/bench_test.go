package raft

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
)

// BenchmarkSubmit: one durable node, many concurrent submitters, each
// Submit a batch of 1000 purchases with unique ids over 100k members. The
// leader ticks every second, as a node's does by default.
func BenchmarkSubmit(b *testing.B) {
	p := loadProgram(b, "coalition")
	cfg := testConfig(b, "n1", p, true)
	cfg.TickInterval = time.Second
	n := startNode(b, cfg)
	defer n.Close()
	waitLeader(b, n)
	tmpl := purchases(b, p, "t", 0, 1)[0]
	const per = 1000
	var seq atomic.Int64
	b.SetParallelism(8) // 8 × GOMAXPROCS submitters
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		cmds := make([]engine.Command, per)
		buf := make([]byte, 0, per*32)
		for pb.Next() {
			buf = fillPurchases(cmds, buf, tmpl, &seq)
			if _, err := n.Submit(context.Background(), cmds); err != nil {
				b.Error(err)
				return
			}
		}
	})
	el, cpu := time.Since(start), processCPU(b)-cpu0
	b.ReportMetric(float64(b.N*per)/el.Seconds(), "cmds/s")
	b.ReportMetric(float64(el.Nanoseconds())/float64(b.N*per), "ns/cmd")
	// Process CPU: the submitters (filling commands) as well as the node.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*per), "cpu-ns/cmd")
}

// BenchmarkStaleReadsWhileWriting: readers hit Member(…, Stale) on one node
// while submitters keep writing; it reports reads/s and the write rate, to
// compare with BenchmarkSubmit (reads must not slow writes).
func BenchmarkStaleReadsWhileWriting(b *testing.B) {
	p := loadProgram(b, "coalition")
	cfg := testConfig(b, "n1", p, true)
	n := startNode(b, cfg)
	defer n.Close()
	waitLeader(b, n)
	tmpl := purchases(b, p, "t", 0, 1)[0]
	const per = 1000
	var seq, written atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmds := make([]engine.Command, per)
			buf := make([]byte, 0, per*32)
			for {
				select {
				case <-stop:
					return
				default:
				}
				buf = fillPurchases(cmds, buf, tmpl, &seq)
				if _, err := n.Submit(context.Background(), cmds); err == nil {
					written.Add(per)
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond) // members exist before reads start
	w0 := written.Load()
	b.ResetTimer()
	start := time.Now()
	var reads atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		var k int64
		name := make([]byte, 0, 16)
		for pb.Next() {
			k++
			name = append(name[:0], 'M')
			name = strconv.AppendInt(name, (k*7919)%100000, 10)
			if _, _, _, err := n.Member(string(name), Stale); err != nil {
				b.Error(err)
				return
			}
			reads.Add(1)
		}
	})
	el := time.Since(start)
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(reads.Load())/el.Seconds(), "reads/s")
	b.ReportMetric(float64(written.Load()-w0)/el.Seconds(), "writes/s")
}

// fillPurchases makes cmds copies of tmpl with fresh ids over 100k members,
// their bytes in buf (reused).
func fillPurchases(cmds []engine.Command, buf []byte, tmpl engine.Command, seq *atomic.Int64) []byte {
	buf = buf[:0]
	for i := range cmds {
		k := seq.Add(1)
		c := tmpl
		off := len(buf)
		buf = append(buf, 'b')
		buf = strconv.AppendInt(buf, k, 36)
		c.ID = buf[off:len(buf):len(buf)]
		off = len(buf)
		buf = append(buf, 'M')
		buf = strconv.AppendInt(buf, k%100000, 10)
		c.Member = buf[off:len(buf):len(buf)]
		cmds[i] = c
	}
	return buf
}

// BenchmarkFeedWhileWriting: submitters write as BenchmarkSubmit does while
// one reader follows the change feed (Ledger.Changes in pages of 1000, each
// entry with its members' balances, then WaitLedger), as GET /v1/changes
// does minus the JSON rendering (api's BenchmarkAppendChange). It reports
// the write rate, the entries the feed read per second, and how long after
// the last write the reader had every entry (lag-ms): a feed that keeps up
// ends within a batch or two of the writes.
func BenchmarkFeedWhileWriting(b *testing.B) {
	p := loadProgram(b, "coalition")
	n := startNode(b, testConfig(b, "n1", p, true))
	defer n.Close()
	waitLeader(b, n)
	tmpl := purchases(b, p, "t", 0, 1)[0]
	const per = 1000
	var seq atomic.Int64
	var read atomic.Uint64 // the reader's cursor
	stop, readerDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(readerDone)
		after := n.Ledger().LastSeq()
		for {
			if _, err := n.Ledger().Changes(after, 1000, func(c *ledger.Change) error {
				after = c.Seq
				return nil
			}); err != nil {
				b.Error(err)
				return
			}
			read.Store(after)
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			n.WaitLedger(ctx, after)
			cancel()
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	start0 := read.Load()
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		cmds := make([]engine.Command, per)
		buf := make([]byte, 0, per*32)
		for pb.Next() {
			buf = fillPurchases(cmds, buf, tmpl, &seq)
			if _, err := n.Submit(context.Background(), cmds); err != nil {
				b.Error(err)
				return
			}
		}
	})
	wrote := time.Since(start)
	led, err := n.CurrentLedger(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	last := led.LastSeq()
	for read.Load() < last {
		time.Sleep(time.Millisecond)
	}
	caughtUp := time.Since(start)
	close(stop)
	<-readerDone
	b.ReportMetric(float64(b.N*per)/wrote.Seconds(), "cmds/s")
	b.ReportMetric(float64(last-start0)/wrote.Seconds(), "entries-written/s")
	b.ReportMetric(float64(last-start0)/caughtUp.Seconds(), "feed-entries/s")
	b.ReportMetric(float64((caughtUp - wrote).Milliseconds()), "lag-ms")
}
