package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/accrual/accrual/apply"
	"github.com/accrual/accrual/bench"
	"github.com/accrual/accrual/bench/workload"
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
)

// scaleFlags are `bench scale`'s flags.
type scaleFlags struct {
	wf                workloadFlags
	dataDir, jsonOut  *string
	plotDir, heapProf *string
	samplesOut        *string
	keep              *bool
	batch, records    *int
	commandsPerDay    *int64
	every             *time.Duration
}

func parseScaleFlags(args []string) (scaleFlags, error) {
	fs := flag.NewFlagSet("bench scale", flag.ContinueOnError)
	f := scaleFlags{
		wf:      addWorkloadFlags(fs, 100_000_000),
		dataDir: fs.String("data", "", "ledger directory (default: a temp dir, removed at the end)"),
		keep:    fs.Bool("keep", false, "keep the temp ledger directory"),
		batch:   fs.Int("batch", 4096, "commands per batch"),
		records: fs.Int("records-in-memory", apply.DefaultRecordsInMemory,
			"command records kept in memory; the others are read back from the ledger directory"),
		commandsPerDay: fs.Int64("commands-per-day", 0,
			"simulated commands a day: how fast the commands' time advances (0: the profile's, payback 5M); "+
				"members × commands a member makes a year / 365 runs a population at its real rate"),
		jsonOut:  fs.String("json", "", "write the scale report and its growth samples (one per 5% of the run) as JSON to FILE"),
		plotDir:  fs.String("plot", "", "write memory.png, disk.png and throughput.png of the samples into DIR"),
		heapProf: fs.String("heap-profile", "", "write a heap profile (go tool pprof) of the end of the run, after a GC, to FILE"),
		every:    fs.Duration("progress-every", 10*time.Second, "progress line interval"),
		samplesOut: fs.String("samples", "", "also append each growth sample to FILE as a JSON line when it is taken "+
			"(a long run's curve survives the run being stopped)"),
	}
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("bench scale: unexpected argument %q", fs.Arg(0))
	}
	if *f.commandsPerDay < 0 {
		return f, fmt.Errorf("bench scale: --commands-per-day is %d; it must be 0 (the profile's) or more", *f.commandsPerDay)
	}
	return f, nil
}

func benchScale(args []string, stdout, stderr io.Writer) error {
	f, err := parseScaleFlags(args)
	if err != nil {
		return err
	}
	wcfg, err := f.wf.config()
	if err != nil {
		return err
	}
	if *f.commandsPerDay > 0 {
		wcfg.CommandsPerDay = *f.commandsPerDay
	}
	gen, err := workload.New(wcfg)
	if err != nil {
		return err
	}
	prog, err := engine.ParseProgram(gen.Program())
	if err != nil {
		return err
	}
	dir := *f.dataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "accrual-scale-"); err != nil {
			return err
		}
		if !*f.keep {
			defer os.RemoveAll(dir)
		}
	}
	rt, err := bench.NewReplayTarget(prog, dir, ledger.Options{}, *f.records)
	if err != nil {
		return err
	}
	t := bench.NewScaleSampler(rt, dir, *f.wf.count)
	if *f.samplesOut != "" {
		out, err := os.Create(*f.samplesOut)
		if err != nil {
			return err
		}
		defer out.Close()
		t.Log = out
	}
	ctx, stop := signalContext()
	defer stop()
	cfg := bench.RunConfig{Workload: wcfg, Count: *f.wf.count, Clients: 1, Batch: *f.batch, Progress: stderr,
		ProgressEvery: *f.every, SampleEvery: 10 * time.Second, ProgressExtra: t.Progress}
	if fd, ok := stderr.(*os.File); ok && isTerminal(fd) {
		cfg.ProgressTTY = true
	}
	out, runErr := bench.Run(ctx, t, cfg)
	t.Sample()
	entries := t.Ledger().LastSeq()
	if err := t.Close(); err != nil {
		return err
	}
	if runErr != nil {
		return runErr
	}
	s := bench.Scale(out, rt, entries, dir, t.Samples())
	s.SetSteadyState(gen.Config().CommandsPerDay, t.BaseHeap(), t.LiveLots())
	printScale(stdout, wcfg.Profile, out, &s)
	if *f.heapProf != "" {
		if err := writeHeapProfile(*f.heapProf); err != nil {
			return err
		}
		runtime.KeepAlive(rt) // the profile is of the live engine
	}
	return f.writeScale(&s, t.Samples(), bench.NewResult(out, cfg))
}

func printScale(w io.Writer, p workload.Profile, out *bench.Outcome, s *bench.ScaleReport) {
	fmt.Fprintf(w, "scale run: %s, %d commands, %d members, %.1f simulated days at %d commands/day\n",
		p, s.Commands, s.Members, s.SimulatedDays, s.CommandsPerDay)
	fmt.Fprintf(w, "  time            %s (%.0f commands/s)\n", out.Elapsed.Round(time.Millisecond), s.CommandsPerS)
	fmt.Fprintf(w, "  heap in use     %.1f MB: %.0f B/member, %.1f B/command; second half: %.1f B/command more\n",
		float64(s.HeapInuseBytes)/(1<<20), s.BytesPerMember, s.BytesPerCommand, s.HeapGrowthPerCommand)
	fmt.Fprintf(w, "  per member      %.0f B over the %.1f MB base (%d resident records included), %.1f live lots\n",
		s.SteadyPerMember, float64(s.BaseHeapBytes)/(1<<20), s.ResidentRecords, s.LotsPerMember)
	fmt.Fprintf(w, "  ledger          %d entries (%.2f/command), %.1f MB on disk, %.1f B/entry\n", s.LedgerEntries, s.EntriesPerCommand, float64(s.DiskBytes)/(1<<20), s.DiskBytesPerEntry)
	fmt.Fprintf(w, "  a year (%.1fB commands): replay %.1f h, heap %.1f GB, disk %.1f GB; average rate needed %.0f/s (%.0f× headroom)\n",
		float64(s.YearCommands)/1e9, s.YearHours, s.YearHeapGB, s.YearDiskGB, s.YearAvgRatePerS, s.HeadroomVsYearAvg)
	fmt.Fprintf(w, "  steady state    the heap scales with members × (member + live lots): %.1fM members at %.0f B each: %.1f GB\n",
		float64(s.YearMembers)/1e6, s.SteadyPerMember, s.YearMembersHeapGB)
}

// writeHeapProfile writes what is live after a GC to file.
func writeHeapProfile(file string) error {
	runtime.GC()
	w, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(w); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// writeScale writes the JSON report and the plots asked for.
func (f scaleFlags) writeScale(s *bench.ScaleReport, samples []bench.ScaleSample, run bench.Result) error {
	if *f.jsonOut != "" {
		b, _ := json.MarshalIndent(struct {
			Machine bench.Machine       `json:"machine"`
			Scale   *bench.ScaleReport  `json:"scale"`
			Samples []bench.ScaleSample `json:"samples"`
			Run     bench.Result        `json:"run"`
		}{bench.DescribeMachine(), s, samples, run}, "", "  ")
		if err := os.WriteFile(*f.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if *f.plotDir != "" {
		return bench.WriteScalePlots(*f.plotDir, samples)
	}
	return nil
}

// benchScalePlot draws the plots of `bench scale --plot` from the JSON
// lines of its --samples file: a run stopped before its end keeps them.
func benchScalePlot(args []string) error {
	fs := flag.NewFlagSet("bench scale-plot", flag.ContinueOnError)
	samplesPath := fs.String("samples", "", "the JSON lines of bench scale --samples")
	plotDir := fs.String("plot", "", "write memory.png, disk.png and throughput.png into DIR")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *samplesPath == "" || *plotDir == "" {
		return errors.New("bench scale-plot: --samples and --plot are required")
	}
	b, err := os.ReadFile(*samplesPath)
	if err != nil {
		return err
	}
	var samples []bench.ScaleSample
	for i, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var x bench.ScaleSample
		if err := json.Unmarshal(line, &x); err != nil {
			return fmt.Errorf("bench scale-plot: %s line %d: %w", *samplesPath, i+1, err)
		}
		samples = append(samples, x)
	}
	return bench.WriteScalePlots(*plotDir, samples)
}
