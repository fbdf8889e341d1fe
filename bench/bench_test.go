package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accrual/accrual/bench/workload"
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
)

func smallWorkload(p workload.Profile) workload.Config {
	c := workload.DefaultConfig(p)
	c.Seed = 7
	c.Members = 2000
	return c
}

func program(t *testing.T, c workload.Config) *engine.Program {
	t.Helper()
	g, err := workload.New(c)
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.ParseProgram(g.Program())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestValidateEngine: a closed-loop run on the engine target with several
// clients passes --validate, and every command is accounted for.
func TestValidateEngine(t *testing.T) {
	for _, prof := range workload.Profiles {
		t.Run(string(prof), func(t *testing.T) {
			wc := smallWorkload(prof)
			p := program(t, wc)
			tg := NewEngineTarget(p)
			tg.SetRecord(true)
			out, err := Run(context.Background(), tg, RunConfig{Workload: wc, Count: 5000, Clients: 3, Batch: 97})
			if err != nil {
				t.Fatal(err)
			}
			if out.Totals.Commands != 5000 || out.Totals.OK+out.Totals.Rejected != 5000 || out.Totals.Failed != 0 {
				t.Fatalf("totals %+v", out.Totals)
			}
			v := ValidateEngine(p, tg)
			if !v.OK || v.Commands != 5000 || v.Members == 0 {
				t.Fatalf("validation %+v", v)
			}
		})
	}
}

// TestValidateDetectsDivergence: the validator does notice a target whose
// state differs from the replay of what it acknowledged.
func TestValidateDetectsDivergence(t *testing.T) {
	wc := smallWorkload(workload.Payback)
	p := program(t, wc)
	tg := NewEngineTarget(p)
	tg.SetRecord(true)
	if _, err := Run(context.Background(), tg, RunConfig{Workload: wc, Count: 2000, Batch: 100}); err != nil {
		t.Fatal(err)
	}
	tg.applied = tg.applied[:len(tg.applied)-1] // "lose" one acknowledged batch
	if v := ValidateEngine(p, tg); v.OK || v.Mismatches == 0 {
		t.Fatalf("divergence not detected: %+v", v)
	}
}

// TestReplayTarget: the replay target writes a ledger that verifies.
func TestReplayTarget(t *testing.T) {
	wc := smallWorkload(workload.Payback)
	p := program(t, wc)
	dir := t.TempDir()
	tg, err := NewReplayTarget(p, dir, ledger.Options{}, 16)
	if err != nil {
		t.Fatal(err)
	}
	tg.SetRecord(true)
	out, err := Run(context.Background(), tg, RunConfig{Workload: wc, Count: 3000, Batch: 500})
	if err != nil {
		t.Fatal(err)
	}
	if v := ValidateEngine(p, tg); !v.OK {
		t.Fatalf("validation %+v", v)
	}
	entries := tg.Ledger().LastSeq()
	if err := tg.Close(); err != nil {
		t.Fatal(err)
	}
	sum, err := ledger.VerifyDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Entries != entries || entries == 0 {
		t.Fatalf("verify saw %d entries, want %d", sum.Entries, entries)
	}
	s := Scale(out, tg, entries, dir, nil)
	if s.Commands != 3000 || s.BytesPerMember <= 0 || s.DiskBytesPerEntry <= 0 || s.YearHours <= 0 {
		t.Fatalf("scale report %+v", s)
	}
}

// TestScaleSamplerSamplesEveryTwentieth: a sampled replay of 3000 commands
// in batches of 100 samples at least every 10 %, commands rising.
func TestScaleSamplerSamplesEveryTwentieth(t *testing.T) {
	wc := smallWorkload(workload.Payback)
	p := program(t, wc)
	dir := t.TempDir()
	rt, err := NewReplayTarget(p, dir, ledger.Options{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := NewScaleSampler(rt, dir, 3000)
	if _, err := Run(context.Background(), s, RunConfig{Workload: wc, Count: 3000, Batch: 100}); err != nil {
		t.Fatal(err)
	}
	s.Sample()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ss := s.Samples()
	if len(ss) < 10 || ss[len(ss)-1].Commands != 3000 {
		t.Fatalf("%d samples: %+v", len(ss), ss)
	}
	for i := 1; i < len(ss); i++ {
		if ss[i].Commands <= ss[i-1].Commands || ss[i].Commands-ss[i-1].Commands > 300 {
			t.Fatalf("sample %d after %d: %+v", i, i-1, ss)
		}
		if ss[i].Members <= 0 || ss[i].HeapBytes == 0 || ss[i].RSSBytes == 0 || ss[i].DiskBytes <= 0 || ss[i].CommandsPerS <= 0 {
			t.Fatalf("sample %d: %+v", i, ss[i])
		}
	}
	if p := s.Progress(); !regexp.MustCompile(`^heap +[0-9.]+ MB  rss +[0-9.]+ MB  disk +[0-9.]+ MB  members [1-9]`).MatchString(p) {
		t.Fatalf("progress %q", p)
	}
}

// slowTarget answers every command "ok" after a fixed delay.
type slowTarget struct {
	delay time.Duration
	calls atomic.Int64
}

func (s *slowTarget) Name() string { return "slow" }
func (s *slowTarget) Close() error { return nil }
func (s *slowTarget) Submit(ctx context.Context, lines [][]byte, dst []byte) ([]byte, error) {
	s.calls.Add(1)
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return dst, ctx.Err()
	}
	for range lines {
		dst = append(dst, `{"status":"ok"}`+"\n"...)
	}
	return dst, nil
}

// TestOpenLoopLate: at a rate the target cannot sustain, commands are
// counted late (and dropped once too far behind), and latency is measured
// from the intended send time, so it grows with the backlog although each
// call takes only the target's delay.
func TestOpenLoopLate(t *testing.T) {
	wc := smallWorkload(workload.Payback)
	tg := &slowTarget{delay: 20 * time.Millisecond}
	// 10 commands per batch at 2000/s = a batch every 5 ms; one sender needs 20 ms.
	out, err := Run(context.Background(), tg, RunConfig{Workload: wc, Count: 1000, Clients: 1, Batch: 10, Rate: 2000,
		LateAfter: time.Millisecond, MaxBacklog: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	tot := out.Totals
	if tot.Commands+tot.Dropped != 1000 {
		t.Fatalf("sent %d + dropped %d != 1000", tot.Commands, tot.Dropped)
	}
	if tot.Late < tot.Commands/2 {
		t.Fatalf("late %d of %d sent: the slow target should make most commands late", tot.Late, tot.Commands)
	}
	if tot.Dropped == 0 {
		t.Fatalf("nothing dropped though the backlog exceeded 300 ms: %+v", tot)
	}
	if tot.Latency.P99 < 100 {
		t.Fatalf("p99 %.1f ms: latency is not measured from the intended time", tot.Latency.P99)
	}
	if tot.Latency.P50 < 20 {
		t.Fatalf("p50 %.1f ms below the target's own delay", tot.Latency.P50)
	}
}

// TestOpenLoopOnTime: with a fast target and enough senders nothing is late
// or dropped, and the run lasts about count/rate.
func TestOpenLoopOnTime(t *testing.T) {
	wc := smallWorkload(workload.Payback)
	tg := &slowTarget{delay: 0}
	start := time.Now()
	out, err := Run(context.Background(), tg, RunConfig{Workload: wc, Count: 2000, Clients: 4, Batch: 20, Rate: 10000,
		LateAfter: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	if out.Totals.Commands != 2000 || out.Totals.Dropped != 0 || out.Totals.Late > 100 {
		t.Fatalf("totals %+v", out.Totals)
	}
	if el < 150*time.Millisecond || el > 2*time.Second {
		t.Fatalf("2000 commands at 10000/s took %s", el)
	}
}

// TestHDRPercentiles: the recorder's percentiles over a known distribution.
func TestHDRPercentiles(t *testing.T) {
	r := NewRecorder(time.Now())
	// 1..1000 ms, one command each.
	for i := 1; i <= 1000; i++ {
		r.Batch(1, time.Duration(i)*time.Millisecond, []byte(`{"status":"ok"}`+"\n"))
	}
	p := r.Totals().Latency
	near := func(name string, got, want float64) {
		if got < want*0.99 || got > want*1.01 {
			t.Errorf("%s = %.3f ms, want about %.0f", name, got, want)
		}
	}
	near("p50", p.P50, 500)
	near("p90", p.P90, 900)
	near("p99", p.P99, 990)
	near("p99.9", p.P999, 999)
	near("max", p.Max, 1000)
	if !(p.P50 <= p.P90 && p.P90 <= p.P99 && p.P99 <= p.P999 && p.P999 <= p.Max) {
		t.Errorf("percentiles not monotone: %+v", p)
	}
	// A batch counts once per command.
	r2 := NewRecorder(time.Now())
	r2.Batch(99, time.Millisecond, bytes.Repeat([]byte(`{"status":"ok"}`+"\n"), 99))
	r2.Batch(1, time.Second, []byte(`{"id":"x","status":"error","error":"insufficient_points"}`+"\n"))
	tot := r2.Totals()
	if tot.Latency.N != 100 || tot.Latency.P90 > 1.1 || tot.Latency.Max < 999 {
		t.Errorf("weighted percentiles %+v", tot.Latency)
	}
	if tot.OK != 99 || tot.Rejected != 1 || tot.Errors["insufficient_points"] != 1 {
		t.Errorf("error accounting %+v", tot)
	}
}

// TestReportShape: the JSON report holds every field the issue asks for,
// and the table and plots are written.
func TestReportShape(t *testing.T) {
	wc := smallWorkload(workload.Payback)
	p := program(t, wc)
	tg := NewEngineTarget(p)
	tg.SetRecord(true)
	cfg := RunConfig{Workload: wc, Count: 3000, Batch: 100, SampleEvery: 10 * time.Millisecond}
	out, err := Run(context.Background(), tg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	res := NewResult(out, cfg)
	v := ValidateEngine(p, tg)
	res.Validation = &v
	peer := res
	peer.Target = "peer"
	rep := &Report{Machine: DescribeMachine(), Command: "test", Results: []Result{res, peer}}
	rep.ComputeRatio()
	path := filepath.Join(t.TempDir(), "r.json")
	if err := rep.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"machine.nproc", "machine.cpu_model", "machine.memory_gb", "machine.kernel", "machine.go_version",
		"results.0.throughput_cmd_per_s", "results.0.elapsed_s", "results.0.totals.latency.p50_ms",
		"results.0.totals.latency.p90_ms", "results.0.totals.latency.p99_ms", "results.0.totals.latency.p999_ms",
		"results.0.totals.latency.max_ms", "results.0.totals.errors_by_code", "results.0.totals.late",
		"results.0.totals.dropped", "results.0.resources.self_cpu_seconds", "results.0.resources.self_peak_rss_mb",
		"results.0.series.0.commands_per_s", "results.0.series.0.p99_ms", "results.0.validation.ok",
		"ratio.throughput", "ratio.p99"} {
		if !hasPath(m, k) {
			t.Errorf("report lacks %s", k)
		}
	}
	if m["machine"].(map[string]any)["nproc"].(float64) < 1 {
		t.Error("nproc < 1")
	}
	var tab bytes.Buffer
	rep.WriteTable(&tab)
	for _, want := range []string{"throughput", "latency p99.9", "ratio", "error insufficient_points", "peak RSS"} {
		if !bytes.Contains(tab.Bytes(), []byte(want)) {
			t.Errorf("table lacks %q:\n%s", want, tab.String())
		}
	}
	dir := t.TempDir()
	if err := WritePlots(dir, rep.Results); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"throughput.png", "latency.png"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func hasPath(v any, path string) bool {
	for _, k := range splitDot(path) {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				return false
			}
		case []any:
			i := 0
			for _, c := range k {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return false
			}
			v = x[i]
		default:
			return false
		}
	}
	return true
}

func splitDot(s string) []string {
	var out []string
	for {
		i := bytes.IndexByte([]byte(s), '.')
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s = s[i+1:]
	}
}

// TestProcessUsage reads this process's own /proc entries.
func TestProcessUsage(t *testing.T) {
	u, err := ProcessUsage(os.Getpid())
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	if u.PeakRSSMB <= 0 {
		t.Fatalf("usage %+v", u)
	}
}

// TestSecondHalfGrowthIgnoresTheFirstHalf: the year's heap extrapolates
// from the growth after half the run, when the window of resident records
// and the population are full, not from the start-up.
func TestSecondHalfGrowthIgnoresTheFirstHalf(t *testing.T) {
	for _, tc := range []struct {
		name    string
		samples []ScaleSample
		want    float64
	}{
		{"none", nil, 0},
		{"one", []ScaleSample{{Commands: 10, HeapBytes: 100}}, 0},
		{"flat after a steep start", []ScaleSample{{Commands: 100, HeapBytes: 1000}, {Commands: 500, HeapBytes: 9000},
			{Commands: 1000, HeapBytes: 9000}}, 0},
		{"growing", []ScaleSample{{Commands: 100, HeapBytes: 0}, {Commands: 600, HeapBytes: 1000},
			{Commands: 1000, HeapBytes: 2600}}, 4},
	} {
		if got := secondHalfGrowth(tc.samples); got != tc.want {
			t.Errorf("%s: %v B/command, want %v", tc.name, got, tc.want)
		}
	}
}
