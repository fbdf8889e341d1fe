package raft

// Fault injection in the Raft transport and disk, for chaos tests (chaos/,
// `accrual chaos`). Off unless Config.FaultsFile is set or the process runs
// with ACCRUAL_FAULTS=1 (then the file is DATA/faults.json). Production
// nodes use plain TCP (or TLS over it) and the plain log store; with
// faults on, TLS runs over the fault layer.
//
// The control file is re-read every 100 ms; a missing or empty file means
// no faults, a malformed one is logged and the previous rules stay:
//
//	{"block": ["127.0.0.1:7001"],          // partition: peers' Raft addresses
//	 "drop":  {"127.0.0.1:7002": 0.05},    // probability a message is lost
//	 "delay_ms": {"*": 20},                // delay before each message is sent
//	 "disk_delay_ms": 50}                  // slow disk (slowdisk.go)
//
// Keys of drop and delay_ms are peers' Raft addresses or "*" (every peer,
// including connections a peer opened to this node, whose peer address is
// not known). block applies to connections this node dials: it refuses new
// dials to the peer and cuts the open ones. A symmetric partition therefore
// needs the rule on both sides (the chaos harness writes every node's file).
// Raft runs on TCP, so a lost message cuts its connection (the messages in
// flight on it are lost too, and hraft re-dials): loss looks like resets,
// not silent gaps in a stream, which is what a real network does to TCP.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
)

// FaultRules is the content of the faults control file.
type FaultRules struct {
	Block   []string           `json:"block,omitempty"`
	Drop    map[string]float64 `json:"drop,omitempty"`
	DelayMS map[string]int     `json:"delay_ms,omitempty"`
	// DiskDelayMS is added before every durable write of the Raft log and
	// stable store and before a snapshot is committed.
	DiskDelayMS int `json:"disk_delay_ms,omitempty"`
}

func (r *FaultRules) blocked(peer string) bool {
	if r == nil {
		return false
	}
	for _, b := range r.Block {
		if b == peer || b == "*" {
			return true
		}
	}
	return false
}

func (r *FaultRules) drop(peer string) float64 {
	if r == nil {
		return 0
	}
	if p, ok := r.Drop[peer]; ok {
		return p
	}
	return r.Drop["*"]
}

func (r *FaultRules) delay(peer string) time.Duration {
	if r == nil {
		return 0
	}
	if d, ok := r.DelayMS[peer]; ok {
		return time.Duration(d) * time.Millisecond
	}
	return time.Duration(r.DelayMS["*"]) * time.Millisecond
}

func (r *FaultRules) diskDelay() time.Duration {
	if r == nil {
		return 0
	}
	return time.Duration(r.DiskDelayMS) * time.Millisecond
}

var (
	errPartitioned = errors.New("raft faults: peer partitioned")
	errDropped     = errors.New("raft faults: message dropped")
)

// faultsFile is the control file of cfg, "" when faults are off.
func faultsFile(cfg Config) string {
	if cfg.FaultsFile != "" {
		return cfg.FaultsFile
	}
	if os.Getenv("ACCRUAL_FAULTS") == "1" {
		return filepath.Join(cfg.DataDir, "faults.json")
	}
	return ""
}

// faultWatch holds the current rules of the control file, re-read every
// 100 ms, for the transport (faultLayer) and the disk (slowdisk.go).
type faultWatch struct {
	file  string
	log   hclog.Logger
	rules atomic.Pointer[FaultRules]
	last  []byte
	// onChange sees every new rule set (set before start).
	onChange func(*FaultRules)
	// sleep waits out a disk delay; tests replace it.
	sleep func(time.Duration)

	stop     chan struct{}
	stopOnce sync.Once
}

// newFaultWatch reads cfg's control file once; nil when faults are off.
// start begins the periodic re-reads.
func newFaultWatch(cfg Config) *faultWatch {
	file := faultsFile(cfg)
	if file == "" {
		return nil
	}
	w := &faultWatch{file: file, log: cfg.Logger.Named("faults"), sleep: time.Sleep, stop: make(chan struct{})}
	w.load()
	w.log.Warn("fault injection enabled", "file", file)
	return w
}

func (w *faultWatch) start() { go w.watch() }

func (w *faultWatch) close() { w.stopOnce.Do(func() { close(w.stop) }) }

func (w *faultWatch) watch() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.load()
		}
	}
}

// load re-reads the control file and, when the rules change, publishes
// them and tells onChange.
func (w *faultWatch) load() {
	b, err := os.ReadFile(w.file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		w.log.Warn("faults file unreadable", "err", err)
		return
	}
	if string(b) == string(w.last) && w.rules.Load() != nil {
		return
	}
	r := &FaultRules{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, r); err != nil {
			w.log.Warn("faults file malformed, keeping the previous rules", "err", err)
			w.last = b
			return
		}
	}
	w.last = b
	w.rules.Store(r)
	w.log.Warn("fault rules", "block", r.Block, "drop", r.Drop, "delay_ms", r.DelayMS, "disk_delay_ms", r.DiskDelayMS)
	if w.onChange != nil {
		w.onChange(r)
	}
}

// newTransport builds the Raft transport: TCP, behind a faultLayer when
// faults are on (w != nil), under mutual TLS when cfg.RaftTLS is set.
func newTransport(cfg Config, adv *net.TCPAddr, w *faultWatch, ids *clusterID) (*hraft.NetworkTransport, error) {
	l, err := net.Listen("tcp", cfg.RaftAddr)
	if err != nil {
		return nil, err
	}
	var layer hraft.StreamLayer = &tcpLayer{Listener: l, adv: advertised(l, adv)}
	if w != nil {
		fl := &faultLayer{StreamLayer: layer, w: w, conns: map[*faultConn]struct{}{}}
		w.onChange = fl.cut
		layer = fl
	}
	if cfg.RaftTLS != nil {
		layer = &tlsLayer{StreamLayer: layer, cfg: cfg.RaftTLS}
	}
	if a, ok := layer.Addr().(*net.TCPAddr); !ok || a.IP == nil || a.IP.IsUnspecified() {
		layer.Close()
		return nil, fmt.Errorf("raft: %s is not an address peers can reach: give a host, not 0.0.0.0", layer.Addr())
	}
	return hraft.NewNetworkTransportWithConfig(&hraft.NetworkTransportConfig{
		Stream: &idLayer{StreamLayer: layer, ids: ids}, MaxPool: 3, Timeout: 10 * time.Second,
		Logger: cfg.Logger.Named("transport"),
	}), nil
}

// advertised is the address peers reach this node at.
func advertised(l net.Listener, adv *net.TCPAddr) net.Addr {
	if adv != nil {
		return adv
	}
	return l.Addr()
}

// faultLayer applies FaultRules to the connections of the stream layer
// below it (TCP).
type faultLayer struct {
	hraft.StreamLayer
	w *faultWatch

	mu    sync.Mutex
	conns map[*faultConn]struct{}
}

var _ hraft.StreamLayer = (*faultLayer)(nil)

func (f *faultLayer) Accept() (net.Conn, error) {
	c, err := f.StreamLayer.Accept()
	if err != nil {
		return nil, err
	}
	return f.track(&faultConn{Conn: c, f: f, peer: "*"}), nil
}

func (f *faultLayer) Dial(address hraft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	peer := string(address)
	if f.w.rules.Load().blocked(peer) {
		// Look like an unreachable host, after a short wait (no busy loop).
		time.Sleep(min(timeout, 100*time.Millisecond))
		return nil, errPartitioned
	}
	c, err := f.StreamLayer.Dial(address, timeout)
	if err != nil {
		return nil, err
	}
	return f.track(&faultConn{Conn: c, f: f, peer: peer, dialed: true}), nil
}

func (f *faultLayer) track(c *faultConn) *faultConn {
	f.mu.Lock()
	f.conns[c] = struct{}{}
	f.mu.Unlock()
	return c
}

func (f *faultLayer) untrack(c *faultConn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
}

// cut closes the open connections to peers that r blocks.
func (f *faultLayer) cut(r *FaultRules) {
	f.mu.Lock()
	var cut []*faultConn
	for c := range f.conns {
		if c.dialed && r.blocked(c.peer) {
			cut = append(cut, c)
		}
	}
	f.mu.Unlock()
	for _, c := range cut {
		c.Close()
	}
}

// faultConn applies the rules to one connection.
type faultConn struct {
	net.Conn
	f      *faultLayer
	peer   string // Raft address when dialed, "*" when accepted
	dialed bool
	once   sync.Once
}

func (c *faultConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.f.untrack(c) })
	return err
}

func (c *faultConn) Write(p []byte) (int, error) {
	r := c.f.w.rules.Load()
	if c.dialed && r.blocked(c.peer) {
		c.Close()
		return 0, errPartitioned
	}
	if d := r.delay(c.peer); d > 0 {
		time.Sleep(d)
	}
	if p := r.drop(c.peer); p > 0 && rand.Float64() < p {
		c.Close()
		return 0, errDropped
	}
	return c.Conn.Write(p)
}

func (c *faultConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.dialed && c.f.w.rules.Load().blocked(c.peer) {
		c.Close()
		return 0, errPartitioned
	}
	return n, err
}
