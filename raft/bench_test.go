package raft

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accrual/accrual/engine"
)

// BenchmarkSubmit: one durable node, many concurrent submitters, each
// Submit a batch of 1000 purchases with unique ids over 100k members.
func BenchmarkSubmit(b *testing.B) {
	p := loadProgram(b, "coalition")
	cfg := testConfig(b, "n1", p, true)
	n := startNode(b, cfg)
	defer n.Close()
	waitLeader(b, n)
	tmpl := purchases(b, p, "t", 0, 1)[0]
	const per = 1000
	var seq atomic.Int64
	b.SetParallelism(8) // 8 × GOMAXPROCS submitters
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		cmds := make([]engine.Command, per)
		buf := make([]byte, 0, per*32)
		for pb.Next() {
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
			if _, err := n.Submit(context.Background(), cmds); err != nil {
				b.Error(err)
				return
			}
		}
	})
	el := time.Since(start)
	b.ReportMetric(float64(b.N*per)/el.Seconds(), "cmds/s")
	b.ReportMetric(float64(el.Nanoseconds())/float64(b.N*per), "ns/cmd")
}
