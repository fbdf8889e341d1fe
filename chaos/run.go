package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/accrual/accrual/bench/workload"
)

// Config describes one chaos run.
type Config struct {
	Binary   string        // the accrual binary (runs `serve` and `verify`)
	Env      []string      // extra environment for the children
	Dir      string        // working directory: node data, program, logs
	Duration time.Duration // how long faults are injected (client traffic runs as long)
	Seed     uint64        // workload and fault schedule; printed so a run can be repeated
	Nodes    int           // default 3
	Members  int           // workload members (default 200)
	Clients  int           // concurrent workload clients (default 4)
	Batch    int           // commands per POST /v1/commands (default 20)
	Rate     int           // workload commands per second, all clients (0: as fast as acknowledged)
	// RecordsInMemory is each node's --records-in-memory (default 1024:
	// small, so that retries and refunds read evicted records back).
	RecordsInMemory int
	// TLS runs the cluster with HTTPS and mutual TLS on the Raft transport
	// (certificates of a throwaway CA); the transport faults then act on
	// the bytes under TLS.
	TLS bool
	// Gap between faults is drawn from [MinGap, MaxGap] (default 1s … 4s).
	MinGap, MaxGap time.Duration
	// Kinds are the fault kinds drawn from (default: every kind but
	// Corrupt, whose rejoin takes seconds and asks for a longer run).
	Kinds []string
	Log   io.Writer // progress (default: discard)
}

// Report is the outcome of a run.
type Report struct {
	Seed     uint64
	Duration time.Duration
	Nodes    int
	TLS      bool           // HTTPS and Raft over mutual TLS
	Faults   map[string]int // injected faults by kind

	Sent         int64 // workload commands sent (distinct ids)
	Acked        int64 // commands acknowledged with a result
	AckedOK      int64 // … of which status ok
	Unfinished   int64 // sent but never acknowledged (cluster never answered)
	Retries      int64 // HTTP retries (all kinds)
	Lost         int64 // acknowledged but absent at the end (retry not a duplicate)
	Mismatched   int64 // retry answered another result than the first
	Duplicated   int64 // applied more than once (hot member ledger, hot counter)
	HotWrites    int64
	HotReads     int64
	Linearizable string // "ok", "VIOLATION", "unknown (timeout)"
	Violations   int64

	Converged    bool   // all nodes: same applied index and state hash
	AppliedIndex uint64 // at convergence
	StateHash    uint64
	MembersCheck int // members compared across nodes
	ViewDiffs    int // members whose views differ between nodes
	InvariantBad int // members breaking available+pending+held = earned−redeemed−expired
	// EngineAhead: the most any node's engine clock was ahead of the
	// harness's at the end (checkClock).
	EngineAhead time.Duration
	Verify      map[string]string
	// Replay: the committed logs, merged from every node's journal, replayed
	// offline in log order to AppliedIndex, and that state's hash.
	ReplayLogs int
	ReplayHash uint64

	Failures []string
}

// OK reports whether every check passed.
func (r *Report) OK() bool { return len(r.Failures) == 0 }

func (r *Report) fail(format string, args ...any) {
	r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
}

// String is the human-readable report.
func (r *Report) String() string {
	var b strings.Builder
	over := "plain TCP"
	if r.TLS {
		over = "TLS"
	}
	fmt.Fprintf(&b, "chaos report: seed %d, %d nodes over %s, %s of faults\n", r.Seed, r.Nodes, over, r.Duration)
	kinds := make([]string, 0, len(r.Faults))
	total := 0
	for k, n := range r.Faults {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		total += n
	}
	sort.Strings(kinds)
	fmt.Fprintf(&b, "  faults injected:   %d (%s)\n", total, strings.Join(kinds, ", "))
	fmt.Fprintf(&b, "  commands sent:     %d (acknowledged %d, ok %d, business errors %d, unfinished %d; %d HTTP retries)\n",
		r.Sent, r.Acked, r.AckedOK, r.Acked-r.AckedOK, r.Unfinished, r.Retries)
	fmt.Fprintf(&b, "  lost:              %d\n", r.Lost)
	fmt.Fprintf(&b, "  duplicated:        %d\n", r.Duplicated)
	fmt.Fprintf(&b, "  result mismatches: %d\n", r.Mismatched)
	fmt.Fprintf(&b, "  hot member:        %d writes, %d linearizable reads: %s (%d violations)\n", r.HotWrites, r.HotReads, r.Linearizable, r.Violations)
	fmt.Fprintf(&b, "  replicas:          converged %v at applied index %d, state hash %016x; %d members compared, %d differ, %d break the invariant\n",
		r.Converged, r.AppliedIndex, r.StateHash, r.MembersCheck, r.ViewDiffs, r.InvariantBad)
	fmt.Fprintf(&b, "  engine clock:      at most %s ahead of the wall clock (limit %s: nothing matured or expired early)\n",
		r.EngineAhead.Round(time.Millisecond), engineAheadLimit)
	fmt.Fprintf(&b, "  offline replay:    %d committed logs replayed in log order to index %d: state hash %016x (%s)\n",
		r.ReplayLogs, r.AppliedIndex, r.ReplayHash, map[bool]string{true: "equal", false: "DIFFERENT"}[r.Converged && r.ReplayHash == r.StateHash])
	ids := make([]string, 0, len(r.Verify))
	for id := range r.Verify {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(&b, "  verify %-4s        %s\n", id+":", r.Verify[id])
	}
	if r.OK() {
		fmt.Fprintf(&b, "  result:            PASS\n")
	} else {
		fmt.Fprintf(&b, "  result:            FAIL\n")
		for _, f := range r.Failures {
			fmt.Fprintf(&b, "    - %s\n", f)
		}
	}
	return b.String()
}

type runner struct {
	cfg  Config
	rep  *Report
	c    *cluster
	logf func(format string, args ...any)

	genMu   sync.Mutex
	gen     *workload.Generator
	members map[string]bool

	acksMu  sync.Mutex
	acks    map[string]uint64 // id → resultHash of the first result
	ticks   int               // acknowledged ticks (never deduplicated)
	sent    atomic.Int64
	ackedOK atomic.Int64
	unfin   atomic.Int64
	retry   atomic.Int64

	hist      history
	hotSeq    atomic.Int64
	hotWrites atomic.Int64
	hotReads  atomic.Int64
	hotIDs    sync.Map // hot write ids acknowledged

	fatalMu sync.Mutex
	fatal   []string
}

// Run executes one chaos run. The error is for setup failures; check
// failures are in the report (Report.OK).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Nodes == 0 {
		cfg.Nodes = 3
	}
	if cfg.RecordsInMemory == 0 {
		cfg.RecordsInMemory = 1024
	}
	if cfg.Members == 0 {
		cfg.Members = 200
	}
	if cfg.Clients == 0 {
		cfg.Clients = 4
	}
	if cfg.Batch == 0 {
		cfg.Batch = 20
	}
	if cfg.MinGap == 0 {
		cfg.MinGap = time.Second
	}
	if cfg.MaxGap < cfg.MinGap {
		cfg.MaxGap = max(cfg.MinGap, 4*time.Second)
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	gen, err := workload.New(workload.Config{Profile: workload.Payback, Seed: cfg.Seed, Members: cfg.Members})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	r := &runner{cfg: cfg, gen: gen, members: map[string]bool{}, acks: map[string]uint64{},
		rep: &Report{Seed: cfg.Seed, Duration: cfg.Duration, Nodes: cfg.Nodes, TLS: cfg.TLS, Faults: map[string]int{}, Verify: map[string]string{}}}
	var logMu sync.Mutex
	r.logf = func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		fmt.Fprintf(cfg.Log, "chaos %7.2fs: %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	r.logf("seed %d: %d nodes, %s, binary %s, dir %s", cfg.Seed, cfg.Nodes, cfg.Duration, cfg.Binary, cfg.Dir)
	if err := r.startCluster(ctx); err != nil {
		r.stopAll()
		return nil, err
	}
	defer r.stopAll()

	r.hist.start = time.Now()
	// Client traffic and faults for Duration; in-flight commands then get
	// up to drainTimeout on a healed cluster to be acknowledged.
	const drainTimeout = 60 * time.Second
	trafficEnd := time.Now().Add(cfg.Duration)
	hardCtx, hardCancel := context.WithDeadline(ctx, trafficEnd.Add(drainTimeout))
	defer hardCancel()
	var wg sync.WaitGroup
	for i := range cfg.Clients {
		wg.Add(1)
		go func() { defer wg.Done(); r.workloadClient(hardCtx, i, trafficEnd) }()
	}
	for i := range 2 {
		wg.Add(2)
		go func() { defer wg.Done(); r.hotWriter(hardCtx, 100+i, trafficEnd) }()
		go func() { defer wg.Done(); r.hotReader(hardCtx, 200+i, trafficEnd) }()
	}
	faultCtx, faultCancel := context.WithDeadline(ctx, trafficEnd)
	r.injectFaults(faultCtx)
	faultCancel()
	r.logf("faults over: healing the cluster")
	if err := r.heal(ctx); err != nil {
		r.rep.fail("heal: %v", err)
	}
	wg.Wait()
	r.logf("traffic over: %d sent, %d acknowledged, %d hot writes, %d hot reads", r.sent.Load(), len(r.acks), r.hotWrites.Load(), r.hotReads.Load())
	r.fatalMu.Lock()
	for _, f := range r.fatal {
		r.rep.fail("%s", f)
	}
	r.fatalMu.Unlock()

	r.check(ctx)
	return r.rep, nil
}

// startCluster writes the program, starts the first node, joins the others
// to it, and waits until every node is ready.
func (r *runner) startCluster(ctx context.Context) error {
	if err := os.MkdirAll(r.cfg.Dir, 0o700); err != nil {
		return err
	}
	progPath := filepath.Join(r.cfg.Dir, "program.yaml")
	if err := os.WriteFile(progPath, r.gen.Program(), 0o600); err != nil {
		return err
	}
	c, pki, env, err := r.newCluster()
	if err != nil {
		return err
	}
	r.c = c
	for i := range r.cfg.Nodes {
		p, err := r.newProc(i, pki, env, progPath)
		if err != nil {
			return err
		}
		c.procs = append(c.procs, p)
	}
	first := c.procs[0]
	// Bootstrap once, as join: a restart that passed --bootstrap to a
	// node whose data was lost would found a second cluster under its id.
	saved := first.args
	first.args = append(append([]string{}, saved...), "--bootstrap")
	err = first.start()
	first.args = saved
	if err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	if err := waitOperatorKey(c, first, deadline); err != nil {
		return err
	}
	for _, p := range c.procs[1:] {
		// Join once; restarts do not pass --join (the node has Raft state).
		saved := p.args
		p.args = append(append([]string{}, saved...), "--join", c.url(first), "--join-key", c.key)
		err := p.start()
		p.args = saved
		if err != nil {
			return err
		}
	}
	if err := r.waitReady(ctx, deadline); err != nil {
		return err
	}
	r.logf("cluster ready: %d nodes", len(c.procs))
	return nil
}

// newCluster makes the cluster's client side: plain HTTP, or with TLS the
// run's certificates, and the environment the nodes need to trust them.
func (r *runner) newCluster() (c *cluster, pki *clusterPKI, env []string, err error) {
	c = &cluster{scheme: "http"}
	env = r.cfg.Env
	if r.cfg.TLS {
		if pki, err = newClusterPKI(r.cfg.Dir); err != nil {
			return nil, nil, nil, fmt.Errorf("chaos: certificates: %w", err)
		}
		c.scheme, c.tls = "https", pki.clientTLS()
		// A joining node reaches the first one over HTTPS; Go's standard
		// SSL_CERT_FILE makes it trust the run's private CA.
		env = append(append([]string{}, env...), "SSL_CERT_FILE="+pki.caFile)
	}
	c.client = c.newHTTPClient(5 * time.Second)
	return c, pki, env, nil
}

// newProc prepares node i (not started): its ports, data directory and
// serve arguments. Nodes after the first take the first node's keys.
func (r *runner) newProc(i int, pki *clusterPKI, env []string, progPath string) (*proc, error) {
	id := fmt.Sprintf("n%d", i+1)
	h, err := freePort()
	if err != nil {
		return nil, err
	}
	ra, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &proc{id: id, http: h, raft: ra, data: filepath.Join(r.cfg.Dir, id), bin: r.cfg.Binary, env: env,
		logPath: filepath.Join(r.cfg.Dir, id+".log")}
	if err := os.MkdirAll(p.data, 0o700); err != nil {
		return nil, err
	}
	p.args = []string{"serve", "--node-id", id, "--http-addr", h, "--raft-addr", ra, "--data", p.data, "--program", progPath,
		"--records-in-memory", strconv.Itoa(r.cfg.RecordsInMemory)}
	if i > 0 {
		p.args = append(p.args, "--keys", filepath.Join(r.c.procs[0].data, "keys.yaml"))
	}
	if pki != nil {
		a, err := pki.args(id)
		if err != nil {
			return nil, err
		}
		p.args = append(p.args, a...)
	}
	return p, nil
}

// waitOperatorKey waits for the first node to write the operator key, and
// takes it as the cluster's key.
func waitOperatorKey(c *cluster, first *proc, deadline time.Time) error {
	for c.key == "" {
		if b, err := os.ReadFile(filepath.Join(first.data, "operator.key")); err == nil && len(b) > 0 {
			c.key = strings.TrimSpace(string(b))
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("chaos: %s wrote no operator key (see %s)", first.id, first.logPath)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// waitReady waits until every node sees a leader and all servers, and has
// applied something.
func (r *runner) waitReady(ctx context.Context, deadline time.Time) error {
	c := r.c
	for {
		ready := 0
		for _, p := range c.procs {
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			s, ok := c.status(cctx, p)
			cancel()
			if ok && s.LeaderID != "" && len(s.Servers) == r.cfg.Nodes && s.AppliedIndex > 0 {
				ready++
			}
		}
		if ready == len(c.procs) {
			return nil
		}
		if time.Now().After(deadline) {
			var seen []string
			for _, p := range c.procs {
				cctx, cancel := context.WithTimeout(ctx, time.Second)
				s, ok := c.status(cctx, p)
				cancel()
				seen = append(seen, fmt.Sprintf("%s running=%t answered=%t leader=%q servers=%d applied=%d",
					p.id, p.running(), ok, s.LeaderID, len(s.Servers), s.AppliedIndex))
			}
			return fmt.Errorf("chaos: cluster not ready after 30s: %s (logs in %s)", strings.Join(seen, "; "), r.cfg.Dir)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (r *runner) stopAll() {
	if r.c == nil {
		return
	}
	for _, p := range r.c.procs {
		p.signal(syscall.SIGKILL, 5*time.Second)
	}
}

func (r *runner) fatalf(format string, args ...any) {
	r.fatalMu.Lock()
	defer r.fatalMu.Unlock()
	if len(r.fatal) < 20 {
		r.fatal = append(r.fatal, fmt.Sprintf(format, args...))
	}
}

// workloadClient sends batches of the workload until trafficEnd, each
// batch retried under the same ids until acknowledged or ctx ends.
func (r *runner) workloadClient(ctx context.Context, client int, trafficEnd time.Time) {
	s := &sender{c: r.c, rng: rand.New(rand.NewPCG(r.cfg.Seed, uint64(client))), retries: &r.retry}
	var idOf struct {
		ID     string `json:"id"`
		Member string `json:"member"`
	}
	var every time.Duration // pacing: each client sends a batch every …
	if r.cfg.Rate > 0 {
		every = time.Duration(float64(time.Second) * float64(r.cfg.Batch*r.cfg.Clients) / float64(r.cfg.Rate))
	}
	next := time.Now()
	for time.Now().Before(trafficEnd) && ctx.Err() == nil {
		if every > 0 {
			sleep(ctx, time.Until(next))
			next = next.Add(every)
		}
		r.genMu.Lock()
		lines := make([][]byte, r.cfg.Batch)
		for i := range lines {
			lines[i] = r.gen.Next(nil)
			idOf.Member = ""
			if json.Unmarshal(lines[i], &idOf) == nil && idOf.Member != "" {
				r.members[idOf.Member] = true
			}
		}
		r.genMu.Unlock()
		body := joinArray(lines)
		r.sent.Add(int64(len(lines)))
		out, err := s.post(ctx, "/v1/commands", body, false)
		if err != nil {
			if errors.Is(err, errFatal) {
				r.fatalf("workload: %v", err)
			}
			r.unfin.Add(int64(len(lines)))
			continue
		}
		var results []json.RawMessage
		if err := json.Unmarshal(out, &results); err != nil || len(results) != len(lines) {
			r.fatalf("workload: bad answer to %d commands: %s", len(lines), truncate(out))
			continue
		}
		r.acksMu.Lock()
		for i, raw := range results {
			id, _, canon, err := canonical(raw)
			if err != nil {
				r.fatalf("workload: bad result %s", truncate(raw))
				continue
			}
			if _, seen := r.acks[id]; seen {
				r.fatalf("workload: id %s acknowledged twice in one run", id)
			}
			if bytes.Contains(lines[i], []byte(`"type":"tick"`)) {
				r.ticks++
			}
			if strings.Contains(canon, `"status":"ok"`) {
				r.ackedOK.Add(1)
			}
			r.acks[id] = resultHash(canon)
		}
		r.acksMu.Unlock()
	}
}

func joinArray(lines [][]byte) []byte {
	n := 2
	for _, l := range lines {
		n += len(l) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, l := range lines {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, trimNL(l)...)
	}
	return append(b, ']')
}

func trimNL(l []byte) []byte {
	for len(l) > 0 && (l[len(l)-1] == '\n' || l[len(l)-1] == '\r') {
		l = l[:len(l)-1]
	}
	return l
}

// hotWriter adds 1 to member "hot" (adjust) until trafficEnd; every
// operation is retried under its id until acknowledged.
func (r *runner) hotWriter(ctx context.Context, client int, trafficEnd time.Time) {
	s := &sender{c: r.c, rng: rand.New(rand.NewPCG(r.cfg.Seed, uint64(client))), retries: &r.retry}
	for time.Now().Before(trafficEnd) && ctx.Err() == nil {
		id := fmt.Sprintf("hot-%d", r.hotSeq.Add(1))
		body := fmt.Appendf(nil, `{"id":%q,"member":"hot","points":1,"reason":"chaos"}`, id)
		call := time.Now()
		out, err := s.post(ctx, "/v1/adjustments", body, false)
		if err != nil {
			if errors.Is(err, errFatal) {
				r.fatalf("hot write: %v", err)
			} else {
				r.fatalf("hot write %s never acknowledged (%v)", id, err)
			}
			return
		}
		ret := time.Now()
		var res struct {
			Status    string `json:"status"`
			Available *int64 `json:"available"`
		}
		if json.Unmarshal(out, &res) != nil || res.Status != "ok" || res.Available == nil {
			r.fatalf("hot write %s: unexpected result %s", id, truncate(out))
			return
		}
		r.hotIDs.Store(id, true)
		r.hotWrites.Add(1)
		r.hist.add(client, true, call, ret, *res.Available)
	}
}

// hotReader reads member "hot" linearizably from random nodes (following
// 307 redirects to the leader) until trafficEnd; failed reads are dropped
// (a read has no effect).
func (r *runner) hotReader(ctx context.Context, client int, trafficEnd time.Time) {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(client)))
	for time.Now().Before(trafficEnd) && ctx.Err() == nil {
		url := r.c.url(r.c.procs[rng.IntN(len(r.c.procs))]) + "/v1/members/hot?consistency=linearizable"
		call := time.Now()
		var code int
		var body []byte
		for hop := 0; hop < 3; hop++ {
			var h map[string][]string
			code, h, body = r.c.do(ctx, "GET", url, nil)
			if code != 307 || len(h["Location"]) == 0 {
				break
			}
			url = h["Location"][0]
			url = r.c.baseURL(url)
		}
		ret := time.Now()
		switch code {
		case 200:
			var v struct {
				Available *int64 `json:"available"`
			}
			if json.Unmarshal(body, &v) != nil || v.Available == nil {
				r.fatalf("hot read: unexpected answer %s", truncate(body))
				return
			}
			r.hotReads.Add(1)
			r.hist.add(client, false, call, ret, *v.Available)
		case 404:
			r.hotReads.Add(1)
			r.hist.add(client, false, call, ret, 0) // no write applied yet
		default:
			sleep(ctx, 50*time.Millisecond)
		}
		sleep(ctx, time.Duration(rng.IntN(10))*time.Millisecond)
	}
}
