package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accrual/accrual/bench"
	"github.com/accrual/accrual/bench/workload"
)

// TestBenchGen: `bench gen` writes exactly the workload's stream.
func TestBenchGen(t *testing.T) {
	var out bytes.Buffer
	if err := benchGen([]string{"--profile", "airline", "--count", "500", "--seed", "3", "--members", "100"}, &out); err != nil {
		t.Fatal(err)
	}
	cfg := workload.DefaultConfig(workload.Airline)
	cfg.Seed, cfg.Members = 3, 100
	var want bytes.Buffer
	if err := workload.Write(&want, cfg, 500); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want.Bytes()) || bytes.Count(out.Bytes(), []byte("\n")) != 500 {
		t.Fatal("bench gen differs from workload.Write")
	}
	if err := benchGen([]string{"--profile", "nope"}, &out); err == nil {
		t.Fatal("unknown profile accepted")
	}
}

// TestBenchRunValidate: the engine target, a few thousand commands,
// --validate passes and --json and --plot are written.
func TestBenchRunValidate(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "r.json")
	var out, errw bytes.Buffer
	err := benchRun([]string{"--target", "engine", "--profile", "club", "--members", "3000", "--count", "4000",
		"--clients", "2", "--batch", "250", "--validate", "--json", js, "--plot", filepath.Join(dir, "plots")}, &out, &errw)
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, out.String(), errw.String())
	}
	if !strings.Contains(out.String(), "ok (") {
		t.Fatalf("validation not reported ok:\n%s", out.String())
	}
	rep, b := readBenchReport(t, js)
	if len(rep.Results) != 1 || rep.Results[0].Totals.Commands != 4000 || !rep.Results[0].Validation.OK {
		t.Fatalf("report %s", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "plots", "latency.png")); err != nil {
		t.Fatal(err)
	}
}

// TestBenchScaleSmall: the scale run on a small count prints its figures
// and writes its growth samples, at least one per 10 % of the run.
func TestBenchScaleSmall(t *testing.T) {
	var out, errw bytes.Buffer
	js := filepath.Join(t.TempDir(), "s.json")
	if err := benchScale([]string{"--profile", "payback", "--count", "20000", "--members", "5000", "--batch", "500", "--json", js}, &out, &errw); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"commands/s", "B/member", "B/entry", "a year"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("scale output lacks %q:\n%s", want, out.String())
		}
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Scale   bench.ScaleReport   `json:"scale"`
		Samples []bench.ScaleSample `json:"samples"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	checkScaleSamples(t, rep.Samples, 20000)
	if rep.Scale.YearHeapGB <= 0 || rep.Samples[len(rep.Samples)-1].Members > 5000 {
		t.Fatalf("scale %+v, last sample %+v", rep.Scale, rep.Samples[len(rep.Samples)-1])
	}
}

// TestBenchScaleCommandsPerDayAndPlots: --commands-per-day sets the
// simulated span the report states, every sample carries its throughput,
// and --plot draws the samples.
func TestBenchScaleCommandsPerDayAndPlots(t *testing.T) {
	dir := t.TempDir()
	js, plots := filepath.Join(dir, "s.json"), filepath.Join(dir, "plots")
	var out, errw bytes.Buffer
	err := benchScale([]string{"--profile", "payback", "--count", "20000", "--members", "500", "--batch", "500",
		"--commands-per-day", "1000", "--records-in-memory", "2000", "--json", js, "--plot", plots,
		"--heap-profile", filepath.Join(dir, "heap.pprof")}, &out, &errw)
	if err != nil {
		t.Fatalf("%v\n%s", err, errw.String())
	}
	for _, want := range []string{"20.0 simulated days at 1000 commands/day", "live lots", "35.0M members at"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("scale output lacks %q:\n%s", want, out.String())
		}
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Scale   bench.ScaleReport   `json:"scale"`
		Samples []bench.ScaleSample `json:"samples"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	checkScaleSamples(t, rep.Samples, 20000)
	s := rep.Scale
	if s.CommandsPerDay != 1000 || s.SimulatedDays != 20 || s.BaseHeapBytes == 0 || s.SteadyPerMember <= 0 ||
		s.LiveLots <= 0 || s.YearMembersHeapGB <= 0 || s.ResidentRecords > 2000+500 {
		t.Fatalf("scale %+v", s)
	}
	for i, x := range rep.Samples {
		if x.CommandsPerS <= 0 {
			t.Fatalf("sample %d has no throughput: %+v", i, x)
		}
	}
	for _, f := range []string{"plots/memory.png", "plots/disk.png", "plots/throughput.png", "heap.pprof"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Fatalf("plot %s: %v", f, err)
		}
	}
}

// TestBenchScaleFlags: bench scale rejects what it cannot run.
func TestBenchScaleFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--commands-per-day", "-1"},
		{"--count", "10", "extra"},
		{"--plot"},
	} {
		if _, err := parseScaleFlags(args); err == nil {
			t.Errorf("parseScaleFlags(%q) accepted", args)
		}
	}
	f, err := parseScaleFlags([]string{"--commands-per-day", "2800", "--plot", "d", "--members", "20000"})
	if err != nil || *f.commandsPerDay != 2800 || *f.plotDir != "d" || *f.wf.members != 20000 {
		t.Fatalf("parsed %v: %+v", err, f)
	}
}

// checkScaleSamples: at least one sample per 10 % of a run of count
// commands, commands increasing, every figure measured.
func checkScaleSamples(t *testing.T, ss []bench.ScaleSample, count int64) {
	t.Helper()
	if len(ss) < 10 || ss[len(ss)-1].Commands != count {
		t.Fatalf("%d samples, last %+v", len(ss), ss[len(ss)-1])
	}
	for i, s := range ss {
		if i > 0 && s.Commands <= ss[i-1].Commands {
			t.Fatalf("sample %d: commands %d after %d", i, s.Commands, ss[i-1].Commands)
		}
		if i > 0 && s.Commands-ss[i-1].Commands > count/10 {
			t.Fatalf("sample %d: a gap of %d commands, more than 10%% of %d", i, s.Commands-ss[i-1].Commands, count)
		}
		if s.Members <= 0 || s.HeapBytes == 0 || s.RSSBytes == 0 || s.DiskBytes <= 0 || s.ElapsedS <= 0 {
			t.Fatalf("sample %d: %+v", i, s)
		}
	}
}

// TestBenchNodeValidate: the node target starts a real `accrual serve`
// (this test binary, acting as accrual), drives it over HTTP with one
// client, and --validate finds its balances equal to an offline replay.
func TestBenchNodeValidate(t *testing.T) {
	t.Setenv("ACCRUAL_TEST_MAIN", "1")
	dir := t.TempDir()
	js := filepath.Join(dir, "r.json")
	var out, errw bytes.Buffer
	err := benchRun([]string{"--target", "node", "--profile", "payback", "--members", "500", "--count", "3000",
		"--clients", "1", "--batch", "200", "--validate", "--json", js}, &out, &errw)
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, out.String(), errw.String())
	}
	rep, b := readBenchReport(t, js)
	if len(rep.Results) != 1 || rep.Results[0].Totals.Commands != 3000 || !rep.Results[0].Validation.OK {
		t.Fatalf("report %s\n%s", b, out.String())
	}
}

// benchReport is the part of `accrual bench --json` the tests check.
type benchReport struct {
	Results []struct {
		Totals struct {
			Commands int64 `json:"commands"`
		} `json:"totals"`
		Validation struct {
			OK bool `json:"ok"`
		} `json:"validation"`
	} `json:"results"`
}

func readBenchReport(t *testing.T, path string) (benchReport, []byte) {
	t.Helper()
	var rep benchReport
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return rep, b
}

// TestBenchViaRoutes: --via times the whole stream into a real node through
// each route: every command is counted (for the stream, one result line
// each; for Kafka, the node's offset passed the last message) and the
// window applied Raft entries.
func TestBenchViaRoutes(t *testing.T) {
	t.Setenv("ACCRUAL_TEST_MAIN", "1")
	for _, via := range []string{"stream", "kafka", "kafka-results"} {
		t.Run(via, func(t *testing.T) {
			js := filepath.Join(t.TempDir(), "via.json")
			var out, errw bytes.Buffer
			err := benchRun([]string{"--target", "node", "--via", via, "--profile", "payback", "--members", "500",
				"--count", "3000", "--json", js}, &out, &errw)
			if err != nil {
				t.Fatalf("%v\n%s\n%s", err, out.String(), errw.String())
			}
			b, err := os.ReadFile(js)
			if err != nil {
				t.Fatal(err)
			}
			var rep struct{ Via bench.ViaResult }
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatal(err)
			}
			if r := rep.Via; r.Commands != 3000 || r.RaftEntries == 0 || r.CommandsPerS <= 0 || r.Results != (via == "kafka-results") {
				t.Fatalf("report %s", b)
			}
		})
	}
}

// TestBenchFollowChanges: --follow-changes reads the feed while the node
// target writes and reports every entry written as read in the end.
func TestBenchFollowChanges(t *testing.T) {
	t.Setenv("ACCRUAL_TEST_MAIN", "1")
	js := filepath.Join(t.TempDir(), "r.json")
	var out, errw bytes.Buffer
	err := benchRun([]string{"--target", "node", "--profile", "payback", "--members", "500", "--count", "3000",
		"--clients", "2", "--batch", "200", "--follow-changes", "--json", js}, &out, &errw)
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, out.String(), errw.String())
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Results []struct {
			TargetDetail struct {
				ChangeFeed bench.FeedReport `json:"change_feed"`
			} `json:"target_detail"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 {
		t.Fatalf("report %s", b)
	}
	f := rep.Results[0].TargetDetail.ChangeFeed
	read := uint64(f.EntriesReadByEnd)
	if f.EntriesWritten == 0 || read > f.EntriesWritten || read+f.LagAtEnd != f.EntriesWritten || !strings.Contains(errw.String(), "change feed:") {
		t.Fatalf("feed report %+v\n%s", f, errw.String())
	}
}

// TestBenchScalePlotDrawsSavedSamples: the plots of a run can be drawn from
// its --samples lines, and a damaged line is named.
func TestBenchScalePlotDrawsSavedSamples(t *testing.T) {
	dir := t.TempDir()
	samples := filepath.Join(dir, "s.jsonl")
	lines := `{"commands":1000,"members":10,"heap_bytes":1000000,"rss_bytes":2000000,"disk_bytes":30000,"elapsed_s":1,"commands_per_s":1000}
{"commands":2000,"members":20,"heap_bytes":1500000,"rss_bytes":2500000,"disk_bytes":60000,"elapsed_s":2,"commands_per_s":1000}
`
	if err := os.WriteFile(samples, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := benchScalePlot([]string{"--samples", samples, "--plot", filepath.Join(dir, "p")}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"memory.png", "disk.png", "throughput.png"} {
		if st, err := os.Stat(filepath.Join(dir, "p", f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if err := os.WriteFile(samples, []byte(lines+"{not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := benchScalePlot([]string{"--samples", samples, "--plot", filepath.Join(dir, "q")}); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("a damaged line: %v", err)
	}
}
