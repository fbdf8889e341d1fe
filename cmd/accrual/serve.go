package main

import (
	"bytes"
	"context"
	"crypto/tls"
	_ "embed"
	"encoding/json"
	"errors"

	"flag"
	"fmt"

	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/accrual/accrual/api"
	"github.com/accrual/accrual/apply"
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/insight"
	"github.com/accrual/accrual/raft"
	"github.com/accrual/accrual/raft/faultinject"
)

// demoProgram is the program `make run` starts with: testdata/coalition.yaml
// (a test keeps the two identical).
//
//go:embed demo-program.yaml
var demoProgram []byte

type serveFlags struct {
	nodeID, raftAddr, httpAddr, dataDir  string
	programPath, keysPath, join, joinKey string
	tlsCert, tlsKey                      string
	raftCert, raftKey, raftCA            string
	bootstrap                            bool
	pointValueMinor                      float64
	diskReserveMB                        int
	scrubMBPerS                          int
	recordsInMemory                      int
	clockToleranceMS                     int64
	cpuProfile                           string
	http                                 httpLimits
	snapshotThreshold, trailingLogs      uint64
	snapshotInterval                     time.Duration
	tickInterval                         time.Duration
	kafka                                kafkaFlags // servekafka.go
}

// httpLimits are the API server's connection caps and timeouts (a
// connection flood or slow clients must not exhaust the node).
type httpLimits struct {
	maxConns, maxConnsPerIP                               int
	headerTimeout, readTimeout, writeTimeout, idleTimeout time.Duration
}

// Connection caps. A held connection costs ~11 KiB of RSS (measured: 5000
// slowloris connections raised a fresh node's RSS by 52 MiB, 2-core AMD
// EPYC), up to ~30 KiB once its 16 KiB read buffer fills, so 10000 stay
// within 100–300 MiB and below the common 20000+ file limit, while far
// above what a node can usefully serve: throughput comes from batches, not
// from connections. 1000 per address leaves `accrual bench` (--clients, 16 or
// 64 by default, one connection per client and node) and the chaos harness
// (a few dozen) unthrottled on 127.0.0.1; behind a proxy or NAT every
// client shares one address, so set --max-conns-per-ip 0 there.
const (
	defaultMaxConns      = 10000
	defaultMaxConnsPerIP = 1000
)

func (l *httpLimits) register(fs *flag.FlagSet) {
	fs.IntVar(&l.maxConns, "max-conns", defaultMaxConns, "most open HTTP connections; more are answered 503 and closed (0: fasthttp's 262144)")
	fs.IntVar(&l.maxConnsPerIP, "max-conns-per-ip", defaultMaxConnsPerIP, "most open HTTP connections from one client address, more are answered 429 (0: unlimited, e.g. behind a proxy)")
	fs.DurationVar(&l.headerTimeout, "header-timeout", 10*time.Second, "time a client has to send a request's line and headers (cuts slowloris clients)")
	fs.DurationVar(&l.readTimeout, "read-timeout", 30*time.Second, "time a client has to send a request body (per chunk on /v1/stream); a stalled body is answered 408")
	fs.DurationVar(&l.writeTimeout, "write-timeout", 30*time.Second, "time a client has to take a response (per chunk on /v1/stream)")
	fs.DurationVar(&l.idleTimeout, "idle-timeout", 120*time.Second, "an idle keep-alive connection is closed after this")
}

// apply copies the limits into cfg.
func (l httpLimits) apply(cfg *api.Config) {
	cfg.Concurrency = l.maxConns
	cfg.MaxConnsPerIP = l.maxConnsPerIP
	cfg.HeaderTimeout = l.headerTimeout
	cfg.ReadTimeout = l.readTimeout
	cfg.WriteTimeout = l.writeTimeout
	cfg.IdleTimeout = l.idleTimeout
}

func cmdServe(args []string) error {
	f, err := parseServeFlags(args)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
		return err
	}
	if f.cpuProfile != "" {
		stop, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	pick, err := serveProgram(f) // serveprogram.go
	if err != nil {
		return err
	}
	prog := pick.prog
	keys, generated, err := serveKeys(f.dataDir, f.keysPath)
	if err != nil {
		return err
	}
	kpis := insight.NewLive(prog, insight.Options{PointValueMinor: f.pointValueMinor}, 5*time.Second)
	cfg, err := f.nodeConfig(prog, kpis)
	if err != nil {
		return err
	}
	// Chaos and crash tests drive this binary with ACCRUAL_FAULTS=1 (and
	// ACCRUAL_CRASH_AT); otherwise nothing is installed.
	faults, err := faultinject.FromEnv(&cfg)
	if err != nil {
		return err
	}
	defer faults.Close() // after the node's Close (deferred below)
	// A damaged table found by the scrub ends serve with the error (the
	// file and the remedy), as a damaged file found at start does.
	damaged := make(chan error, 1)
	cfg.OnCorruptData = func(e *raft.CorruptDataError) {
		select {
		case damaged <- e:
		default: // the first one already stops the node
		}
	}
	node, err := raft.Open(cfg)
	if err != nil {
		return err
	}
	defer node.Close()
	if !node.HadState() && !f.bootstrap && f.join == "" {
		fmt.Fprintf(os.Stderr, "accrual: %s holds no Raft state and neither --bootstrap nor --join was given: waiting to be added "+
			"to a cluster (accrual cluster add --id %s …). A new cluster's first node starts with --bootstrap; "+
			"a member whose data was lost is removed and added again (docs/RELIABILITY.md)\n", f.dataDir, f.nodeID)
	}
	consumer, err := f.kafka.consumer(node)
	if err != nil {
		return err
	}
	stopKafka := startConsumer(consumer)
	defer stopKafka()
	acfg := api.Config{Addr: f.httpAddr, Backend: nodeBackend{n: node, kpis: kpis, kafka: consumer}, Keys: keys, TLSCert: f.tlsCert, TLSKey: f.tlsKey}
	f.http.apply(&acfg)
	srv, err := api.New(acfg)
	if err != nil {
		return err
	}
	return serveUntilStopped(f, node, srv, pick, generated, stopKafka, damaged)
}

// serveUntilStopped serves HTTP, joins the cluster when asked to, and once
// the node is ready (raft/ready.go; /readyz answers 503 until then) checks
// --program and prints how to try it; it returns on SIGINT or SIGTERM, or
// with the error of a damaged table the scrub found.
func serveUntilStopped(f serveFlags, node *raft.Node, srv *api.Server, pick programPick, generatedKey bool, stopKafka func(),
	damaged <-chan error) error {
	srv.SetReady(false)
	stop := stopSignals()
	errc := make(chan error, 2) // the HTTP server's end, a damaged table
	go func() { errc <- srv.ListenAndServe() }()
	go func() { errc <- <-damaged }()
	fmt.Printf("accrual: node %s starting on %s (raft %s, data %s); ready once its state is loaded and a leader is known\n",
		f.nodeID, f.httpAddr, f.raftAddr, f.dataDir)
	if f.join != "" {
		if err := joinCluster(f); err != nil {
			return err
		}
	}
	stopped, err := awaitReady(node, stop, errc)
	if err != nil || stopped {
		return err
	}
	if err := pick.check(node.Program()); err != nil {
		return err
	}
	srv.SetReady(true)
	printServing(f, node.Program(), generatedKey)
	if err := awaitStop(stop, errc); err != nil {
		return err
	}
	if err := srv.Shutdown(); err != nil {
		return err
	}
	stopKafka() // before the node closes under it
	return node.Close()
}

func parseServeFlags(args []string) (serveFlags, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var f serveFlags
	fs.StringVar(&f.nodeID, "node-id", "node1", "this node's id, stable across restarts")
	fs.StringVar(&f.raftAddr, "raft-addr", "127.0.0.1:7000", "Raft transport address")
	fs.StringVar(&f.httpAddr, "http-addr", "127.0.0.1:8080", "HTTP API address")
	fs.StringVar(&f.dataDir, "data", "data", "data directory")
	fs.StringVar(&f.programPath, "program", "", "program file (YAML or JSON); default: the stored one, else the demo coalition")
	fs.StringVar(&f.keysPath, "keys", "", "API keys file; default: DATA/keys.yaml, created with one operator key")
	fs.BoolVar(&f.bootstrap, "bootstrap", false, "start a new one-node cluster when the data directory holds no Raft state "+
		"(pass it on a new cluster's first start only; without it or --join an empty node waits to be added, "+
		"as a member whose data was lost must: docs/RELIABILITY.md)")
	fs.StringVar(&f.join, "join", "", "HTTP address of a cluster node to join through")
	fs.StringVar(&f.joinKey, "join-key", "", "operator key for --join (default: $ACCRUAL_KEY)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "… and this key (PEM)")
	fs.StringVar(&f.raftCert, "raft-tls-cert", "", "secure the Raft transport with mutual TLS: this node's certificate (PEM)")
	fs.StringVar(&f.raftKey, "raft-tls-key", "", "… its key (PEM)")
	fs.StringVar(&f.raftCA, "raft-tls-ca", "", "… and the cluster's CA (PEM): peers of another CA are refused")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (for engineers)")
	fs.IntVar(&f.diskReserveMB, "disk-reserve-mb", raft.DefaultDiskReserveBytes>>20,
		"refuse new commands (HTTP 507 disk_full) while the data directory's filesystem has less than this many MiB free; "+
			"room for the queue, the Raft log, a ledger flush and a snapshot (0: never refuse)")
	fs.IntVar(&f.scrubMBPerS, "scrub-mb-per-s", raft.DefaultScrubBytesPerS>>20,
		"read every table of the data directory in the background at most this many MiB/s, checking each block's checksum; "+
			"a damaged table stops the node, naming the file (0: no scrub; docs/RELIABILITY.md, \"Corrupted disks\")")
	fs.Int64Var(&f.clockToleranceMS, "clock-tolerance-ms", raft.DefaultClockToleranceMS,
		"how far this node's clock may be from the time a majority of the voters' clocks agree on; beyond it, as leader, "+
			"it ticks no time and refuses commands without `at` (503 clock_unsynchronized) until they agree. The default is well above "+
			"NTP's error on a LAN and a loaded round trip, and far below what would mature or expire a lot early")
	fs.IntVar(&f.recordsInMemory, "records-in-memory", apply.DefaultRecordsInMemory,
		"command records kept in memory; older ones stay in the data directory and are read back when a command names them")
	fs.Uint64Var(&f.snapshotThreshold, "snapshot-threshold", 0, "Raft entries between snapshots (0: raft.Config's default; tests lower it)")
	fs.Uint64Var(&f.trailingLogs, "trailing-logs", 0, "Raft entries kept after a snapshot (0: raft.Config's default)")
	fs.DurationVar(&f.snapshotInterval, "snapshot-interval", 0, "how often the snapshot threshold is checked (0: raft.Config's default)")
	fs.Float64Var(&f.pointValueMinor, "point-value-minor", 1, "money value of one point in minor units, for liability in the KPIs")
	fs.DurationVar(&f.tickInterval, "tick-interval", time.Second,
		"how often the leader proposes a tick at its clock, so points mature and expire without traffic "+
			"(0: never; for a stream that carries its own ticks, such as the kcat check)")
	f.http.register(fs)
	f.kafka.register(fs)
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if f.bootstrap && f.join != "" {
		return f, errors.New("serve: --bootstrap starts a new cluster and --join joins one: pass one of them")
	}
	return f, nil
}

// startCPUProfile profiles the whole run; stop writes the profile.
func startCPUProfile(path string) (stop func(), err error) {
	pf, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(pf); err != nil {
		return nil, err
	}
	return pprof.StopCPUProfile, nil
}

// nodeConfig is the node's raft.Config from the flags.
func (f serveFlags) nodeConfig(prog *engine.Program, kpis *insight.Live) (raft.Config, error) {
	var raftTLS *tls.Config
	if f.raftCert != "" || f.raftKey != "" || f.raftCA != "" {
		var err error
		if raftTLS, err = raft.LoadTLS(f.raftCert, f.raftKey, f.raftCA); err != nil {
			return raft.Config{}, err
		}
	}
	reserveBytes := int64(f.diskReserveMB) << 20
	if f.diskReserveMB <= 0 {
		reserveBytes = -1 // the guard is off
	}
	scrubBytesPerS := int64(f.scrubMBPerS) << 20
	if f.scrubMBPerS <= 0 {
		scrubBytesPerS = -1 // the scrub is off
	}
	return raft.Config{
		NodeID: f.nodeID, RaftAddr: f.raftAddr, HTTPAddr: f.httpAddr, DataDir: f.dataDir,
		Bootstrap: f.bootstrap, Program: prog, Observer: kpis, RaftTLS: raftTLS,
		DiskReserveBytes: reserveBytes, RecordsInMemory: f.recordsInMemory, ClockToleranceMS: f.clockToleranceMS,
		SnapshotThreshold: f.snapshotThreshold, TrailingLogs: f.trailingLogs, SnapshotInterval: f.snapshotInterval,
		TickInterval: tickInterval(f.tickInterval), ScrubBytesPerS: scrubBytesPerS,
	}, nil
}

// tickInterval is raft.Config's: 0 on the command line means no ticks.
func tickInterval(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}

// printServing tells the operator, once the node is ready, which program
// it serves and how to try it (with a partner of that program).
func printServing(f serveFlags, prog *engine.Program, generatedKey bool) {
	scheme := "http"
	if f.tlsCert != "" {
		scheme = "https"
	}
	fmt.Printf("accrual: node %s ready, serving program %q on %s://%s (raft %s, data %s)\n", f.nodeID, prog.ID, scheme, f.httpAddr, f.raftAddr, f.dataDir)
	if generatedKey {
		// The key itself is never printed: a server's output ends up in logs.
		fmt.Printf("accrual: generated operator key, kept in %s (mode 0600)\n", filepath.Join(f.dataDir, "operator.key"))
	}
	keyRef := fmt.Sprintf("$(cat %s)", filepath.Join(f.dataDir, "operator.key"))
	if f.keysPath != "" {
		keyRef = "$ACCRUAL_KEY"
	}
	fmt.Printf("try:\n  curl -s -H \"Authorization: Bearer %s\" -d '%s' %s://%s/v1/purchases\n",
		keyRef, tryPurchase(prog), scheme, f.httpAddr)
	fmt.Printf("  curl -s -H \"Authorization: Bearer %s\" %s://%s/v1/members/alice\n", keyRef, scheme, f.httpAddr)
}

// tryPurchase is the purchase of the try lines: at grocer when the program
// has it (the README's demo), else at its first partner.
func tryPurchase(prog *engine.Program) string {
	partner := ""
	for i, p := range prog.Partners {
		if i == 0 || p.ID == "grocer" {
			partner = p.ID
		}
	}
	if partner == "" {
		return `{"id":"try-1","member":"alice","amount":4200}`
	}
	return fmt.Sprintf(`{"id":"try-1","member":"alice","partner":%q,"amount":4200}`, partner)
}

// stopSignals delivers SIGINT and SIGTERM.
func stopSignals() <-chan os.Signal {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	return sig
}

// awaitReady waits until the node is ready; stopped: a signal came first
// (then the node just closes), err: the HTTP server ended or a table is
// damaged.
func awaitReady(node *raft.Node, stop <-chan os.Signal, errc <-chan error) (stopped bool, err error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan error, 1)
	go func() { ready <- node.WaitReady(ctx) }()
	select {
	case err := <-ready:
		return false, err
	case s := <-stop:
		fmt.Printf("accrual: %v before the node was ready: shutting down\n", s)
		return true, nil
	case err := <-errc:
		return false, err
	}
}

// awaitStop waits for SIGINT or SIGTERM, or for the HTTP server to end
// (its error, if any) or a damaged table (its error).
func awaitStop(stop <-chan os.Signal, errc <-chan error) error {
	select {
	case s := <-stop:
		fmt.Printf("accrual: %v: shutting down\n", s)
		return nil
	case err := <-errc:
		return err
	}
}

// serveKeys loads --keys, else DATA/keys.yaml, creating it with one fresh
// operator key on first start (generated reports it; the key is only in
// DATA/operator.key and keys.yaml, both 0600).
func serveKeys(dataDir, path string) (keys *api.Keys, generated bool, err error) {
	if path != "" {
		k, err := api.LoadKeys(path)
		return k, false, err
	}
	file := filepath.Join(dataDir, "keys.yaml")
	if _, err := os.Stat(file); err == nil {
		k, err := api.LoadKeys(file)
		return k, false, err
	}
	key := api.GenerateKey()
	doc := fmt.Sprintf("# API keys of this node (see docs/API.md). Roles: operator, partner, readonly.\n- {key: %q, role: operator}\n", key)
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		return nil, false, err
	}
	if err := os.WriteFile(filepath.Join(dataDir, "operator.key"), []byte(key), 0o600); err != nil {
		return nil, false, err
	}
	k, err := api.ParseKeys([]byte(doc))
	return k, true, err
}

// joinCluster asks a node of the cluster to add this one as a voter,
// following a not-leader answer to the leader, retrying for a while.
func joinCluster(f serveFlags) error {
	key := joinKey(f)
	body, _ := json.Marshal(map[string]string{"id": f.nodeID, "raft_addr": f.raftAddr, "http_addr": f.httpAddr})
	target := f.join
	client := &http.Client{Timeout: 10 * time.Second}
	var last error
	for attempt := 0; attempt < 30; attempt++ {
		url := httpURL(target)
		req, _ := http.NewRequest("POST", url+"/v1/cluster/join", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := client.Do(req)
		if err == nil {
			var out struct {
				Error struct {
					Code, Message, Leader string
				} `json:"error"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			if out.Error.Leader != "" {
				target = out.Error.Leader
			}
			err = fmt.Errorf("join via %s: %d %s: %s", url, resp.StatusCode, out.Error.Code, out.Error.Message)
			if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
				return err
			}
		}
		last = err
		time.Sleep(time.Second)
	}
	return last
}

// joinKey is the operator key of --join: --join-key, else $ACCRUAL_KEY.
func joinKey(f serveFlags) string {
	if f.joinKey != "" {
		return f.joinKey
	}
	return os.Getenv("ACCRUAL_KEY")
}

// httpURL adds http:// to an address without a scheme.
func httpURL(addr string) string {
	if strings.Contains(addr, "://") {
		return addr
	}
	return "http://" + addr
}
