package api

import (
	"bytes"
	"syscall"
	"testing"

	"github.com/accrual/accrual/bench/workload"
)

// processCPUNS is the CPU time (user + system) the process has used: on a
// shared machine ns/op counts the wait for a core, cpu-ns does not.
func processCPUNS(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// paybackBodies returns n/1000 request bodies of 1000 payback commands
// each, as the bench's client sends them.
func paybackBodies(b *testing.B, n int) [][]byte {
	cfg := workload.DefaultConfig(workload.Payback)
	cfg.Seed = 7
	g, err := workload.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var buf []byte
	for i := 0; i < n; i++ {
		buf = g.Next(buf)
	}
	lines := bytes.Split(bytes.TrimSuffix(buf, []byte("\n")), []byte("\n"))
	var bodies [][]byte
	for off := 0; off+1000 <= len(lines); off += 1000 {
		body := append([]byte{'['}, bytes.Join(lines[off:off+1000], []byte{','})...)
		bodies = append(bodies, append(body, ']'))
	}
	return bodies
}

// BenchmarkDecodeBatch1000 is the HTTP decode layer of POST /v1/commands
// alone: the body copied into a pooled batch (as readBody does), then
// decoded into engine.Commands (decodeBody). An op is one body of 1000
// payback commands; cpu-ns/cmd is process CPU per command.
func BenchmarkDecodeBatch1000(b *testing.B) {
	bodies := paybackBodies(b, 100_000)
	bt := &batch{}
	now := clockNow{ms: 1_800_000_000_000, ok: true}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPUNS(b)
	for i := 0; i < b.N; i++ {
		bt.resetCommands()
		bt.body = append(bt.body[:0], bodies[i%len(bodies)]...)
		if err := bt.decodeBody(MaxBatch, now); err != nil {
			b.Fatal(err)
		}
		if len(bt.cmds) != 1000 || bt.st[999] != stValid {
			b.Fatalf("%d commands, the last in state %d", len(bt.cmds), bt.st[len(bt.st)-1])
		}
	}
	cpu := processCPUNS(b) - cpu0
	b.StopTimer()
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "cmds/s")
	b.ReportMetric(float64(cpu)/float64(b.N)/1000, "cpu-ns/cmd")
}
