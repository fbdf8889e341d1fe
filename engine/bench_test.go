package engine_test

import (
	"testing"

	"github.com/accrual/accrual/bench/workload"
	"github.com/accrual/accrual/engine"
)

// BenchmarkApplyPayback applies the payback workload (a coalition mix over
// 1M members with Zipf-skewed activity) in batches of 4096, after a warm-up
// that creates the members' state. Only Apply is timed: generation and
// decoding run with the timer stopped.
func BenchmarkApplyPayback(b *testing.B) {
	benchApply(b, workload.Payback, 1_000_000)
}

// BenchmarkApplyClub is the same on the §9 club workload.
func BenchmarkApplyClub(b *testing.B) {
	benchApply(b, workload.Club, 1_000_000)
}

func benchApply(b *testing.B, profile workload.Profile, members int) {
	const batch = 4096
	cfg := workload.DefaultConfig(profile)
	cfg.Members = members
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
	var (
		dec     engine.Decoder
		lines   = make([]byte, 0, batch*256)
		offs    = make([]int, 0, batch+1)
		cmds    = make([]engine.Command, batch)
		results = make([]engine.Result, 0, batch)
		entries = make([]engine.Entry, 0, 8*batch)
	)
	fill := func() {
		lines, offs = lines[:0], offs[:0]
		for i := 0; i < batch; i++ {
			offs = append(offs, len(lines))
			lines = gen.Next(lines)
		}
		offs = append(offs, len(lines))
		dec.Reset()
		for i := 0; i < batch; i++ {
			dec.Decode(lines[offs[i]:offs[i+1]-1], &cmds[i])
		}
	}
	// Warm-up: 2 × members commands, so most members exist and hold lots.
	for n := 0; n < 2*members/batch; n++ {
		fill()
		results, entries = eng.Apply(cmds, results[:0], entries[:0])
	}
	b.ReportAllocs()
	b.ResetTimer()
	applied := 0
	for applied < b.N {
		b.StopTimer()
		fill()
		b.StartTimer()
		results, entries = eng.Apply(cmds, results[:0], entries[:0])
		applied += batch
	}
	b.StopTimer()
	b.ReportMetric(float64(applied)/b.Elapsed().Seconds(), "cmds/s")
	b.ReportMetric(float64(eng.Members()), "members")
}
