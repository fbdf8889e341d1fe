package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/accrual/accrual/apply"
	"github.com/accrual/accrual/bench"
	"github.com/accrual/accrual/bench/pgpeer"
	"github.com/accrual/accrual/bench/workload"
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
)

const benchUsage = `usage:
  accrual bench gen --profile P --count N [--seed S] [--members M] [--out FILE]
  accrual bench program --profile P [--members M]
  accrual bench [run] --target engine|replay|node|cluster | --url URL[,URL…] [--key KEY]
        [--profile P] [--count N] [--seed S] [--members M]
        [--clients N] [--batch B] [--rate CMDS_PER_S]
        [--validate] [--json FILE] [--plot DIR] [--data DIR]
        [--peer postgres [--pg-url URL]] [--follow-changes] [--cpuprofile FILE]
  accrual bench --target node --via stream|kafka|kafka-results [--profile P] [--count N]
  accrual bench scale --profile payback --count 100000000 [--members N] [--skew S] [--commands-per-day N]
        [--records-in-memory N] [--data DIR] [--json FILE] [--samples FILE] [--plot DIR] [--heap-profile FILE]
  accrual bench scale-plot --samples FILE --plot DIR   (draws a run's --samples, also of a stopped run)
`

func cmdBench(args []string) error {
	sub := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "gen":
		return benchGen(args, os.Stdout)
	case "program":
		return benchProgram(args, os.Stdout)
	case "run":
		return benchRun(args, os.Stdout, os.Stderr)
	case "scale":
		return benchScale(args, os.Stdout, os.Stderr)
	case "scale-plot":
		return benchScalePlot(args)
	case "help", "-h", "--help":
		fmt.Print(benchUsage)
		return nil
	}
	return fmt.Errorf("bench: unknown subcommand %q\n\n%s", sub, benchUsage)
}

// workloadFlags are the stream's flags, shared by every subcommand.
type workloadFlags struct {
	profile *string
	count   *int64
	seed    *uint64
	members *int
	skew    *float64
}

func addWorkloadFlags(fs *flag.FlagSet, count int64) workloadFlags {
	return workloadFlags{
		profile: fs.String("profile", "payback", "workload profile: payback, cashback, airline, club"),
		count:   fs.Int64("count", count, "commands"),
		seed:    fs.Uint64("seed", 1, "generator seed"),
		members: fs.Int("members", 0, "member population (0: the profile's default)"),
		skew:    fs.Float64("skew", 0, "Zipf exponent of member activity (0: 1.1; lower spreads commands over more members)"),
	}
}

func (w workloadFlags) config() (workload.Config, error) {
	p := workload.Profile(*w.profile)
	known := false
	for _, q := range workload.Profiles {
		known = known || q == p
	}
	if !known {
		return workload.Config{}, fmt.Errorf("bench: unknown profile %q", p)
	}
	cfg := workload.DefaultConfig(p)
	cfg.Seed = *w.seed
	if *w.members > 0 {
		cfg.Members = *w.members
	}
	cfg.Skew = *w.skew
	return cfg, nil
}

func benchGen(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench gen", flag.ContinueOnError)
	wf := addWorkloadFlags(fs, 1000)
	out := fs.String("out", "", "write to this file instead of stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := wf.config()
	if err != nil {
		return err
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := workload.Write(bw, cfg, *wf.count); err != nil {
		return err
	}
	return bw.Flush()
}

func benchProgram(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench program", flag.ContinueOnError)
	wf := addWorkloadFlags(fs, 0)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := wf.config()
	if err != nil {
		return err
	}
	g, err := workload.New(cfg)
	if err != nil {
		return err
	}
	_, err = stdout.Write(g.Program())
	return err
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

type runFlags struct {
	wf                        workloadFlags
	target, urls, key         *string
	clients, batch            *int
	rate                      *float64
	lateAfter, maxBacklog     *time.Duration
	validate                  *bool
	sample                    *int
	jsonOut, plotDir, dataDir *string
	peer, pgURL               *string
	peerClients               *int
	recordsInMemory           *int
	bin, serveArgs            *string
	progressEvery             *time.Duration
	via                       *string
	followChanges             *bool
	cpuProfile                *string
}

func benchRun(args []string, stdout, stderr io.Writer) error {
	f, err := parseRunFlags(args)
	if err != nil {
		return err
	}
	wcfg, err := f.wf.config()
	if err != nil {
		return err
	}
	gen, err := workload.New(wcfg)
	if err != nil {
		return err
	}
	progYAML := gen.Program()
	prog, err := engine.ParseProgram(progYAML)
	if err != nil {
		return err
	}
	stopProfile, err := f.profile()
	if err != nil {
		return err
	}
	defer stopProfile()
	ctx, stop := signalContext()
	defer stop()
	if *f.via != "" {
		return f.runVia(ctx, wcfg, stdout)
	}

	kind := *f.target
	if *f.urls != "" {
		kind = "http"
	}
	cfg := f.runConfig(wcfg, kind, stderr)
	rep := &bench.Report{Machine: bench.DescribeMachine(), Command: "accrual bench " + strings.Join(args, " ")}
	var cl cleanups
	defer cl.run()
	t, engT, err := f.openTarget(ctx, kind, prog, progYAML, cfg.Clients, &cl)
	if err != nil {
		return err
	}
	var fol *bench.ChangeFollower
	if *f.followChanges {
		if fol, err = bench.FollowChanges(ctx, t, *f.key); err != nil {
			return err
		}
	}
	res, err := f.runTarget(ctx, t, engT, prog, &cfg)
	if err != nil {
		return err
	}
	if fol != nil {
		if err := reportFeed(ctx, fol, &res, stderr); err != nil {
			return err
		}
	}
	rep.Results = append(rep.Results, res)

	if *f.peer != "" {
		if *f.peer != "postgres" {
			return fmt.Errorf("bench: unknown peer %q (postgres)", *f.peer)
		}
		pres, err := runPostgresPeer(ctx, prog, cfg, *f.pgURL, *f.peerClients, stderr)
		if err != nil {
			return fmt.Errorf("postgres peer: %w", err)
		}
		rep.Results = append(rep.Results, pres)
		rep.ComputeRatio()
	}
	return f.writeReport(rep, stdout)
}

// profile starts the client's CPU profile when --cpuprofile asks for one.
func (f runFlags) profile() (stop func(), err error) {
	if *f.cpuProfile == "" {
		return func() {}, nil
	}
	return startCPUProfile(*f.cpuProfile)
}

func parseRunFlags(args []string) (runFlags, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	f := runFlags{
		wf:         addWorkloadFlags(fs, 1_000_000),
		target:     fs.String("target", "engine", "engine, replay, node or cluster (ignored with --url)"),
		urls:       fs.String("url", "", "comma-separated base URLs of running nodes (HTTP target)"),
		key:        fs.String("key", os.Getenv("ACCRUAL_KEY"), "API key for the HTTP target (default $ACCRUAL_KEY)"),
		clients:    fs.Int("clients", 0, "concurrent clients (default 1 for engine/replay, 16 for HTTP)"),
		batch:      fs.Int("batch", 0, "commands per batch (default 1000 in process, 256 over HTTP)"),
		rate:       fs.Float64("rate", 0, "open loop at this many commands/s (0: closed loop, max throughput)"),
		lateAfter:  fs.Duration("late-after", time.Millisecond, "open loop: a batch sent this much after its intended time is late"),
		maxBacklog: fs.Duration("max-backlog", 2*time.Second, "open loop: a batch this far behind is dropped"),
		validate:   fs.Bool("validate", false, "afterwards replay the acknowledged commands offline and compare balances"),
		sample:     fs.Int("validate-sample", 1000, "HTTP targets: members read for --validate"),
		jsonOut:    fs.String("json", "", "write the full report as JSON to FILE"),
		plotDir:    fs.String("plot", "", "write throughput.png and latency.png into DIR"),
		dataDir:    fs.String("data", "", "replay target: ledger directory (default: a temp dir, removed)"),
		recordsInMemory: fs.Int("records-in-memory", apply.DefaultRecordsInMemory,
			"replay target: command records kept in memory (the others are read back from the ledger directory)"),
		peer:          fs.String("peer", "", "also run the stream against a peer: postgres"),
		pgURL:         fs.String("pg-url", "", "PostgreSQL URL (default: start a throwaway server)"),
		peerClients:   fs.Int("peer-clients", 0, "clients for the peer (default: --clients)"),
		bin:           fs.String("bin", "", "node/cluster: the accrual binary (default: this one)"),
		serveArgs:     fs.String("serve-args", "", "node/cluster: serve argument template (see bench.DefaultServeArgs)"),
		progressEvery: fs.Duration("progress-every", 5*time.Second, "progress line interval when stderr is not a terminal"),
		via: fs.String("via", "", "node: instead of batches, time the whole stream through one route: "+
			"stream (one POST /v1/stream), kafka (a kfake topic the node consumes), kafka-results (also producing results)"),
		followChanges: fs.Bool("follow-changes", false, "HTTP targets: follow GET /v1/changes while writing; report entries read vs written and the lag at the end"),
		cpuProfile:    fs.String("cpuprofile", "", "write a CPU profile of this process (the client; servers take serve's --cpuprofile) to this file"),
	}
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	return f, nil
}

// runConfig applies the flags to a run config, with the defaults of the
// target kind: in process one client and big batches, over HTTP more
// clients and smaller batches.
func (f runFlags) runConfig(wcfg workload.Config, kind string, stderr io.Writer) bench.RunConfig {
	inProcess := kind == "engine" || kind == "replay"
	cfg := bench.RunConfig{Workload: wcfg, Count: *f.wf.count, Clients: *f.clients, Batch: *f.batch, Rate: *f.rate,
		LateAfter: *f.lateAfter, MaxBacklog: *f.maxBacklog, ProgressEvery: *f.progressEvery}
	if cfg.Clients <= 0 {
		cfg.Clients = 1
		if !inProcess {
			cfg.Clients = 16
		}
		if cfg.Rate > 0 {
			cfg.Clients = 64 // open loop: enough senders that a slow batch doesn't stall the schedule
		}
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 1000
		if !inProcess {
			cfg.Batch = 256
		}
	}
	cfg.Progress, cfg.ProgressTTY = stderr, false
	if fd, ok := stderr.(*os.File); ok && isTerminal(fd) {
		cfg.ProgressTTY = true
	}
	return cfg
}

// cleanups are undone in reverse order when the bench ends.
type cleanups []func()

func (c *cleanups) add(fn func()) { *c = append(*c, fn) }

func (c *cleanups) run() {
	for i := len(*c) - 1; i >= 0; i-- {
		(*c)[i]()
	}
}

// openTarget opens the target of the kind; engT is set for the in-process
// targets (engine, replay), which validate and report from the engine.
func (f runFlags) openTarget(ctx context.Context, kind string, prog *engine.Program, progYAML []byte, clients int, cl *cleanups) (t bench.Target, engT *bench.EngineTarget, err error) {
	switch kind {
	case "engine":
		engT = bench.NewEngineTarget(prog)
		return engT, engT, nil
	case "replay":
		dir := *f.dataDir
		if dir == "" {
			if dir, err = os.MkdirTemp("", "accrual-bench-"); err != nil {
				return nil, nil, err
			}
			cl.add(func() { os.RemoveAll(dir) })
		}
		if engT, err = bench.NewReplayTarget(prog, dir, ledger.Options{}, *f.recordsInMemory); err != nil {
			return nil, nil, err
		}
		return engT, engT, nil
	case "http":
		return bench.NewHTTPTarget("http", strings.Split(*f.urls, ","), *f.key, clients), nil, nil
	case "node", "cluster":
		httpT, err := f.startNodes(ctx, kind, progYAML, clients, cl)
		if err != nil {
			return nil, nil, err
		}
		return httpT, nil, nil
	default:
		return nil, nil, fmt.Errorf("bench: unknown target %q", kind)
	}
}

// startNodes starts one node or a three-node cluster of this binary (or
// --bin) and returns a target writing to its leader.
func (f runFlags) startNodes(ctx context.Context, kind string, progYAML []byte, clients int, cl *cleanups) (*bench.HTTPTarget, error) {
	n := 1
	if kind == "cluster" {
		n = 3
	}
	bin := *f.bin
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "accrual-nodes-")
	if err != nil {
		return nil, err
	}
	cl.add(func() { os.RemoveAll(dir) })
	pf := filepath.Join(dir, "program.yaml")
	if err := os.WriteFile(pf, progYAML, 0o644); err != nil {
		return nil, err
	}
	key := *f.key
	if key == "" {
		key = "bench-operator-key"
	}
	*f.key = key
	nodes, err := bench.StartNodes(ctx, bin, n, *f.serveArgs, dir, pf, key)
	if err != nil {
		return nil, err
	}
	cl.add(nodes.Stop)
	// Writes go to the leader (node 1 bootstrapped the cluster);
	// followers would answer 421.
	httpT := bench.NewHTTPTarget(kind, nodes.URLs[:1], *f.key, clients)
	httpT.SetPIDs(nodes.PIDs())
	return httpT, nil
}

// runVia is `bench --via`: one durable node, the whole stream through one
// route (bench.RunVia).
func (f runFlags) runVia(ctx context.Context, wcfg workload.Config, stdout io.Writer) error {
	via, results := *f.via, false
	if via == "kafka-results" {
		via, results = "kafka", true
	}
	self, _ := os.Executable()
	bin := cmp.Or(*f.bin, self)
	dir, err := os.MkdirTemp("", "accrual-via-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	key := cmp.Or(*f.key, "bench-operator-key")
	r, err := bench.RunVia(ctx, bench.ViaConfig{Via: via, Results: results, Workload: wcfg, Count: *f.wf.count,
		Bin: bin, ServeArgs: *f.serveArgs, Key: key, Dir: dir})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, r.Line())
	if *f.jsonOut != "" {
		return bench.WriteViaJSON(*f.jsonOut, r)
	}
	return nil
}

// reportFeed ends the change-feed follower, prints its report and keeps it
// in the result's detail.
func reportFeed(ctx context.Context, fol *bench.ChangeFollower, res *bench.Result, stderr io.Writer) error {
	fr, err := fol.Finish(ctx)
	if err != nil {
		return fmt.Errorf("change feed: %w", err)
	}
	fmt.Fprintln(stderr, fr.Line())
	d := map[string]any{"change_feed": fr}
	if res.TargetDetail != nil {
		d["target"] = res.TargetDetail
	}
	res.TargetDetail = d
	return nil
}

// runTarget runs the stream against the target, validates it when asked,
// and closes the target.
func (f runFlags) runTarget(ctx context.Context, t bench.Target, engT *bench.EngineTarget, prog *engine.Program, cfg *bench.RunConfig) (bench.Result, error) {
	if *f.validate {
		if engT != nil {
			engT.SetRecord(true)
		} else {
			cfg.Record = true
		}
	}
	out, err := bench.Run(ctx, t, *cfg)
	if err != nil {
		t.Close()
		return bench.Result{}, err
	}
	res := bench.NewResult(out, *cfg)
	if *f.validate {
		var v bench.Validation
		if engT != nil {
			v = bench.ValidateEngine(prog, engT)
		} else if br, ok := t.(bench.BalanceReader); ok {
			if v, err = bench.ValidateBalances(ctx, prog, out.Acked, br, *f.sample); err != nil {
				t.Close()
				return bench.Result{}, fmt.Errorf("validate: %w", err)
			}
		}
		res.Validation = &v
	}
	if engT != nil && engT.Ledger() != nil {
		res.TargetDetail = map[string]any{"ledger_entries": engT.Ledger().LastSeq(), "members": engT.Engine().Members()}
	} else if engT != nil {
		res.TargetDetail = map[string]any{"members": engT.Engine().Members()}
	}
	if err := t.Close(); err != nil {
		return bench.Result{}, err
	}
	return res, nil
}

// writeReport prints the table and writes the JSON and plots asked for; it
// fails when a validation failed.
func (f runFlags) writeReport(rep *bench.Report, stdout io.Writer) error {
	rep.WriteTable(stdout)
	if *f.jsonOut != "" {
		if err := rep.WriteJSON(*f.jsonOut); err != nil {
			return err
		}
	}
	if *f.plotDir != "" {
		if err := bench.WritePlots(*f.plotDir, rep.Results); err != nil {
			return err
		}
	}
	for _, r := range rep.Results {
		if r.Validation != nil && !r.Validation.OK {
			return errors.New("bench: validation failed")
		}
	}
	return nil
}

// runPostgresPeer runs the same stream (same config) against PostgreSQL.
func runPostgresPeer(ctx context.Context, prog *engine.Program, cfg bench.RunConfig, url string, clients int, stderr io.Writer) (bench.Result, error) {
	var pids func() []int
	if url == "" {
		srv, err := pgpeer.Start(ctx)
		if err != nil {
			return bench.Result{}, err
		}
		defer srv.Stop()
		url = srv.URL
		pids = srv.PIDs
		fmt.Fprintf(stderr, "postgres: started on port %d (fsync on, synchronous_commit on)\n", srv.Port)
	}
	if clients > 0 {
		cfg.Clients = clients
	}
	cfg.Record = false
	pt, err := pgpeer.Open(ctx, url, prog, cfg.Clients, pids)
	if err != nil {
		return bench.Result{}, err
	}
	defer pt.Close()
	out, err := bench.Run(ctx, pt, cfg)
	if err != nil {
		return bench.Result{}, err
	}
	res := bench.NewResult(out, cfg)
	if st, err := pt.Stats(ctx); err == nil {
		res.TargetDetail = st
	}
	return res, nil
}
