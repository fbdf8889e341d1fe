package raft

// Fault injection in the Raft transport, for chaos tests (chaos/, `accrual
// chaos`). Off unless Config.FaultsFile is set or the process runs with
// ACCRUAL_FAULTS=1 (then the file is DATA/faults.json). Production nodes
// use hraft's plain TCP transport.
//
// The control file is re-read every 100 ms; a missing or empty file means
// no faults, a malformed one is logged and the previous rules stay:
//
//	{"block": ["127.0.0.1:7001"],          // partition: peers' Raft addresses
//	 "drop":  {"127.0.0.1:7002": 0.05},    // probability a message is lost
//	 "delay_ms": {"*": 20}}                // delay before each message is sent
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

// newTransport builds the Raft transport: plain TCP, or TCP behind a
// faultLayer when faults are on.
func newTransport(cfg Config, adv *net.TCPAddr) (*hraft.NetworkTransport, bool, error) {
	file := faultsFile(cfg)
	logger := cfg.Logger.Named("transport")
	if file == "" && cfg.RaftTLS != nil {
		t, err := newTLSTransport(cfg, adv)
		return t, false, err
	}
	if file == "" {
		t, err := hraft.NewTCPTransportWithLogger(cfg.RaftAddr, adv, 3, 10*time.Second, logger)
		return t, false, err
	}
	l, err := net.Listen("tcp", cfg.RaftAddr)
	if err != nil {
		return nil, false, err
	}
	fl := &faultLayer{Listener: l, adv: adv, file: file, log: logger, conns: map[*faultConn]struct{}{}, stop: make(chan struct{})}
	fl.load()
	go fl.watch()
	logger.Warn("fault injection enabled", "file", file)
	return hraft.NewNetworkTransportWithConfig(&hraft.NetworkTransportConfig{
		Stream: fl, MaxPool: 3, Timeout: 10 * time.Second, Logger: logger,
	}), true, nil
}

// faultLayer is a hraft.StreamLayer over TCP that applies FaultRules.
type faultLayer struct {
	net.Listener
	adv  net.Addr
	file string
	log  hclog.Logger

	rules atomic.Pointer[FaultRules]
	last  []byte

	mu    sync.Mutex
	conns map[*faultConn]struct{}

	stop     chan struct{}
	stopOnce sync.Once
}

var _ hraft.StreamLayer = (*faultLayer)(nil)

func (f *faultLayer) Addr() net.Addr { return f.adv }

func (f *faultLayer) Close() error {
	f.stopOnce.Do(func() { close(f.stop) })
	return f.Listener.Close()
}

func (f *faultLayer) Accept() (net.Conn, error) {
	c, err := f.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return f.track(&faultConn{Conn: c, f: f, peer: "*"}), nil
}

func (f *faultLayer) Dial(address hraft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	peer := string(address)
	if f.rules.Load().blocked(peer) {
		// Look like an unreachable host, after a short wait (no busy loop).
		time.Sleep(min(timeout, 100*time.Millisecond))
		return nil, errPartitioned
	}
	c, err := net.DialTimeout("tcp", peer, timeout)
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

func (f *faultLayer) watch() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
			f.load()
		}
	}
}

// load re-reads the control file and, when the rules change, cuts the open
// connections to newly blocked peers.
func (f *faultLayer) load() {
	b, err := os.ReadFile(f.file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		f.log.Warn("faults file unreadable", "err", err)
		return
	}
	if string(b) == string(f.last) && f.rules.Load() != nil {
		return
	}
	r := &FaultRules{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, r); err != nil {
			f.log.Warn("faults file malformed, keeping the previous rules", "err", err)
			f.last = b
			return
		}
	}
	f.last = b
	f.rules.Store(r)
	f.log.Warn("fault rules", "block", r.Block, "drop", r.Drop, "delay_ms", r.DelayMS)
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
	r := c.f.rules.Load()
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
	if c.dialed && c.f.rules.Load().blocked(c.peer) {
		c.Close()
		return 0, errPartitioned
	}
	return n, err
}
