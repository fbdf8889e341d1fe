package engine_test

import (
	"context"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"

	"github.com/accrual/accrual/bench/workload"
	"github.com/accrual/accrual/engine"
)

// BenchmarkApplyPayback applies the payback workload (a coalition mix over
// 1M members with Zipf-skewed activity) in batches of 4096, after a warm-up
// that creates the members' state. Only Apply is timed: generation and
// decoding run with the timer stopped. Its program has a budgeted launch
// campaign (SPEC §10.1) that every purchase of the run matches and spends.
func BenchmarkApplyPayback(b *testing.B) {
	benchApply(b, workload.Payback, 1_000_000, 0, nil, nil)
}

// BenchmarkApplyPaybackLookAhead is BenchmarkApplyPayback with Apply's
// look-ahead (ahead.go) on in every other batch and off in the rest:
// cpu-ns/op is the CPU of the batches with it, cpu-ns/op-off without it.
// One process, one stream, batches interleaved, so that a loaded machine
// weighs on both alike.
func BenchmarkApplyPaybackLookAhead(b *testing.B) {
	benchApply(b, workload.Payback, 1_000_000, 0, nil, engine.SetLookAhead)
}

// BenchmarkApplyClub is the same on the §9 club workload.
func BenchmarkApplyClub(b *testing.B) {
	benchApply(b, workload.Club, 1_000_000, 0, nil, nil)
}

// BenchmarkApplyCashback is the same on the cashback workload, whose
// program has SPEC §10.4's daily cap (each purchase reads and writes its
// member's day counters); /no-daily-cap runs the same stream without it,
// to show what it costs.
func BenchmarkApplyCashback(b *testing.B) {
	b.Run("daily-cap", func(b *testing.B) { benchApply(b, workload.Cashback, 1_000_000, 0, nil, nil) })
	b.Run("no-daily-cap", func(b *testing.B) {
		benchApply(b, workload.Cashback, 1_000_000, 0, func(src string) string {
			return mustReplace(b, src, ", per_member_day: 50000}", "}")
		}, nil)
	})
}

// BenchmarkApplyPaybackStore is BenchmarkApplyPayback through a
// store-backed engine with 65,536 records resident and a map as the store,
// timing the caller's whole cycle around each Apply (see mapCaller). Its
// allocations are the map's (a new value per new record), not the engine's.
func BenchmarkApplyPaybackStore(b *testing.B) {
	benchApply(b, workload.Payback, 1_000_000, 1<<16, nil, nil)
}

// timeBatches runs batch k = 0, 1, … (run applies it and returns its CPU
// time) until b.N commands are applied, and reports cmds/s and cpu-ns/op;
// toggled: odd batches are the "off" half, reported as cpu-ns/op-off.
func timeBatches(b *testing.B, batch int, toggled bool, run func(k int) int64) {
	b.ReportAllocs()
	b.ResetTimer()
	var applied, cpuNS, offApplied, offCPUNS int64
	for k := 0; applied+offApplied < int64(b.N); k++ {
		cpu := run(k)
		if toggled && k%2 == 1 {
			offApplied, offCPUNS = offApplied+int64(batch), offCPUNS+cpu
		} else {
			applied, cpuNS = applied+int64(batch), cpuNS+cpu
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(applied+offApplied)/b.Elapsed().Seconds(), "cmds/s")
	b.ReportMetric(float64(cpuNS)/float64(applied), "cpu-ns/op")
	if toggled {
		b.ReportMetric(float64(offCPUNS)/float64(max(offApplied, 1)), "cpu-ns/op-off")
	}
}

// processCPUNS is the CPU time (user + system) the process has used. On a
// shared machine ns/op counts the time the benchmark waits for a core;
// cpu-ns/op (CPU time around each Apply, GC workers included) does not.
func processCPUNS(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// mustReplace replaces old in src, which must hold it.
func mustReplace(b *testing.B, src, old, new string) string {
	if !strings.Contains(src, old) {
		b.Fatalf("the program has no %q", old)
	}
	return strings.Replace(src, old, new, 1)
}

// mapCaller is the caller of a store-backed engine that doc.go describes,
// with a map for the store: load what a batch needs, apply at the next
// position, persist the dirty records, evict down to window.
type mapCaller struct {
	eng     *engine.Engine
	store   map[string][]byte
	window  int
	pos     uint64
	missing [][]byte
	persist func(id string, value []byte) error
}

func newMapCaller(eng *engine.Engine, window int) *mapCaller {
	c := &mapCaller{eng: eng, store: map[string][]byte{}, window: window}
	c.persist = func(id string, value []byte) error {
		c.store[id] = append(c.store[id][:0], value...)
		return nil
	}
	return c
}

func (c *mapCaller) apply(cmds []engine.Command, results []engine.Result, entries []engine.Entry) ([]engine.Result, []engine.Entry) {
	c.pos++
	c.missing = c.eng.AppendMissing(cmds, c.missing[:0])
	for _, id := range c.missing {
		if v, ok := c.store[string(id)]; ok {
			if err := c.eng.LoadRecord(id, v, c.pos); err != nil {
				panic(err)
			}
		}
	}
	c.eng.SetPosition(c.pos)
	results, entries = c.eng.Apply(cmds, results, entries)
	if err := c.eng.AppendDirty(c.persist); err != nil {
		panic(err)
	}
	c.eng.Evict(c.window, c.pos)
	return results, entries
}

// benchApply times Apply, or with window > 0 a store-backed engine's whole
// cycle (mapCaller). edit, if not nil, changes the program's source first.
// toggle, if not nil, switches something on in even batches and off in odd
// ones, whose CPU goes to cpu-ns/op-off.
func benchApply(b *testing.B, profile workload.Profile, members, window int, edit func(string) string,
	toggle func(*engine.Engine, bool)) {
	const batch = 4096
	cfg := workload.DefaultConfig(profile)
	cfg.Members = members
	cfg.Seed = 1
	gen, err := workload.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	src := string(gen.Program())
	if edit != nil {
		src = edit(src)
	}
	prog, err := engine.ParseProgram([]byte(src))
	if err != nil {
		b.Fatal(err)
	}
	eng := engine.NewWithOptions(prog, engine.Options{StoreBacked: window > 0})
	apply := eng.Apply
	if window > 0 {
		apply = newMapCaller(eng, window).apply
	}
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
		results, entries = apply(cmds, results[:0], entries[:0])
	}
	// The timed applies carry the profile label phase=timed, so that a CPU
	// profile can leave out the warm-up, which is most of a short run's
	// samples: go tool pprof -tagfocus phase=timed.
	timed := pprof.WithLabels(context.Background(), pprof.Labels("phase", "timed"))
	untimed := context.Background()
	timeBatches(b, batch, toggle != nil, func(k int) int64 {
		b.StopTimer()
		fill()
		if toggle != nil {
			toggle(eng, k%2 == 0)
		}
		b.StartTimer()
		pprof.SetGoroutineLabels(timed)
		cpu0 := processCPUNS(b)
		results, entries = apply(cmds, results[:0], entries[:0])
		cpu := processCPUNS(b) - cpu0
		pprof.SetGoroutineLabels(untimed)
		return cpu
	})
	b.ReportMetric(float64(eng.Members()), "members")
	b.ReportMetric(float64(eng.Resident()), "resident")
}
