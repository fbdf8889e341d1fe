package raft

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/accrual/accrual/engine"
	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
)

// Config configures a Node. Zero values take the defaults noted.
type Config struct {
	NodeID   string // unique, stable across restarts
	RaftAddr string // host:port the Raft TCP transport binds to and advertises
	HTTPAddr string // address clients are redirected to (replicated, see doc.go)
	DataDir  string // raft/, snapshots/, ledger/ live under it
	// Bootstrap starts a one-node cluster when the Raft log is empty.
	Bootstrap bool
	Program   *engine.Program

	MaxBatchCommands int           // commands per Raft entry (default 4096)
	MaxBatchBytes    int           // encoded bytes per Raft entry before compression (default 256 KiB)
	BatchWindow      time.Duration // how long the batcher gathers while Raft is busy (default 1ms)
	MaxQueue         int           // commands queued or in flight, node-wide (default 65536)

	// RecordsInMemory bounds the command records the engine keeps resident
	// (default apply.DefaultRecordsInMemory); the others are in the
	// ledger's DB and read back when a command names them (SPEC §6).
	RecordsInMemory int

	SnapshotThreshold uint64        // Raft entries between snapshots (default 2048)
	TrailingLogs      uint64        // entries kept after a snapshot (default 1024)
	SnapshotInterval  time.Duration // how often the threshold is checked (default 30s)
	SnapshotRetain    int           // snapshots kept on disk (default 2)

	// Raft timing; the defaults suit loopback clusters and LANs.
	HeartbeatTimeout   time.Duration // default 500ms
	ElectionTimeout    time.Duration // default 500ms
	LeaderLeaseTimeout time.Duration // default 250ms
	CommitTimeout      time.Duration // default 5ms

	// TickInterval: how often the leader proposes a tick (default 1s; <0 disables).
	TickInterval time.Duration
	// ClockToleranceMS: how far a node's wall clock may be from the time a
	// majority of the voters' clocks agree on before it, as leader, stops
	// ticking and stamping (default DefaultClockToleranceMS; see clock.go).
	ClockToleranceMS int64
	// ClockSampleInterval: how often each peer's clock is sampled (default 1s).
	ClockSampleInterval time.Duration
	// ApplyTimeout bounds the wait to enqueue an entry into Raft (default 10s).
	ApplyTimeout time.Duration

	// DiskReserveBytes: below this much free space on DataDir's filesystem
	// the node refuses new commands with *DiskFullError (default
	// DefaultDiskReserveBytes; <0 turns the guard off). See diskguard.go.
	DiskReserveBytes int64
	// DiskPollInterval is how often the free space is read (default 500ms).
	DiskPollInterval time.Duration

	// ScrubBytesPerS bounds the background scrub's reads of the stores'
	// tables (default DefaultScrubBytesPerS; <0 turns the scrub off). See
	// scrub.go.
	ScrubBytesPerS int64
	// OnCorruptData is told when the scrub finds a damaged table; it
	// should stop the node (accrual serve returns the error and exits).
	// Nil: the scrub panics with the error, as the apply path does on
	// damaged data it must apply.
	OnCorruptData func(*CorruptDataError)

	// RaftTLS, when set, secures the Raft transport with mutual TLS (see
	// LoadTLS): peers must present a certificate of the cluster's CA.
	RaftTLS *tls.Config

	// Observer, when set, sees every applied batch under the apply lock
	// (e.g. the KPI collector of package insight). It must be quick.
	Observer Observer

	// Seams wrap parts of the node as Open builds them. Zero in
	// production; test support (package raft/faultinject) sets them.
	Seams Seams

	// Logger receives Raft's and the node's logs (default: DefaultLogger).
	Logger hclog.Logger
}

// Seams are where a caller may wrap what Open builds, without Open knowing
// why (fault injection in chaos and crash tests: raft/faultinject). A nil
// field leaves that part as built.
type Seams struct {
	// Stream wraps the TCP stream layer of the Raft transport, below TLS
	// and the cluster-id hello (so what it does to bytes hits them as a
	// network would).
	Stream func(hraft.StreamLayer) hraft.StreamLayer
	// RaftStore wraps the Raft log and stable store.
	RaftStore func(RaftStore) RaftStore
	// Snapshots wraps the snapshot store.
	Snapshots func(hraft.SnapshotStore) hraft.SnapshotStore
	// Logs sees the Raft logs the state machine applies.
	Logs LogObserver
	// Clock is the node's wall clock (default time.Now): what it stamps
	// and what it tells peers sampling its clock (clock.go).
	Clock func() time.Time
}

// RaftStore is what hraft needs of the Raft log directory (logstore.Store).
type RaftStore interface {
	hraft.LogStore
	hraft.StableStore
}

// wrap applies a seam, when set.
func wrap[T any](seam func(T) T, v T) T {
	if seam == nil {
		return v
	}
	return seam(v)
}

// DefaultLogger is the logger of a Config without one: stderr at WARN.
func DefaultLogger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Warn, Output: os.Stderr})
}

func (c *Config) setDefaults() error {
	if c.NodeID == "" || c.RaftAddr == "" || c.DataDir == "" || c.Program == nil {
		return errors.New("raft: Config needs NodeID, RaftAddr, DataDir and Program")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.MaxBatchCommands, 4096)
	def(&c.MaxBatchBytes, 256<<10)
	def(&c.MaxQueue, 64<<10)
	def(&c.SnapshotRetain, 2)
	defD(&c.BatchWindow, time.Millisecond)
	defD(&c.SnapshotInterval, 30*time.Second)
	defD(&c.HeartbeatTimeout, 500*time.Millisecond)
	defD(&c.ElectionTimeout, 500*time.Millisecond)
	defD(&c.LeaderLeaseTimeout, 250*time.Millisecond)
	defD(&c.CommitTimeout, 5*time.Millisecond)
	defD(&c.TickInterval, time.Second)
	defD(&c.ClockSampleInterval, time.Second)
	if c.ClockToleranceMS <= 0 {
		c.ClockToleranceMS = DefaultClockToleranceMS
	}
	defD(&c.ApplyTimeout, 10*time.Second)
	defD(&c.DiskPollInterval, 500*time.Millisecond)
	if c.ScrubBytesPerS == 0 {
		c.ScrubBytesPerS = DefaultScrubBytesPerS
	}
	if c.DiskReserveBytes == 0 {
		c.DiskReserveBytes = DefaultDiskReserveBytes
	}
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = 2048
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = 1024
	}
	if c.MaxBatchCommands > c.MaxQueue {
		return fmt.Errorf("raft: MaxBatchCommands %d > MaxQueue %d", c.MaxBatchCommands, c.MaxQueue)
	}
	if c.Logger == nil {
		c.Logger = DefaultLogger()
	}
	return nil
}

// raftConfig is hraft's configuration of the node (doc.go, Raft settings).
func raftConfig(cfg Config) (*hraft.Config, error) {
	rc := hraft.DefaultConfig()
	rc.LocalID = hraft.ServerID(cfg.NodeID)
	rc.BatchApplyCh = true
	rc.MaxAppendEntries = 64
	rc.NoLegacyTelemetry = true
	rc.Logger = cfg.Logger
	rc.LogLevel = "INFO"
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.TrailingLogs = cfg.TrailingLogs
	rc.SnapshotInterval = cfg.SnapshotInterval
	return rc, hraft.ValidateConfig(rc)
}

// ErrNotLeader is matched (errors.Is) by every *NotLeaderError.
var ErrNotLeader = errors.New("raft: not the leader")

// ErrOverloaded is returned by Submit when the bounded queue is full.
var ErrOverloaded = errors.New("raft: overloaded, queue full")

// ErrDiskFull is matched (errors.Is) by every *DiskFullError.
var ErrDiskFull = errors.New("raft: disk full")

// ErrClosed is returned after Close.
var ErrClosed = errors.New("raft: node closed")

// ErrUnknownOutcome wraps errors after which a command may or may not have
// been committed (leadership lost while in flight): retry with the same ids.
var ErrUnknownOutcome = errors.New("raft: outcome unknown, retry with the same ids")

// NotLeaderError says this node cannot serve the request, and where the
// leader is if known.
type NotLeaderError struct {
	LeaderID   string // "" if unknown
	LeaderHTTP string // "" if unknown
}

func (e *NotLeaderError) Error() string {
	if e.LeaderID == "" {
		return "raft: not the leader (leader unknown)"
	}
	return fmt.Sprintf("raft: not the leader (leader %s at %q)", e.LeaderID, e.LeaderHTTP)
}

// Is makes errors.Is(err, ErrNotLeader) true.
func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }

// LogObserver sees the Raft logs of the apply path, under the apply lock:
// it must be quick. Offline replays of the applied logs are built on it
// (raft/faultinject's journal, replayed with ReplayLogs).
type LogObserver interface {
	// AppliedLogs: the batch was applied (all of it, after its read views).
	AppliedLogs(logs []*hraft.Log)
	// Restored: the state was replaced by the snapshot at index.
	Restored(index uint64)
}

// Observer watches applied commands on the apply path.
type Observer interface {
	Observe(cmds []engine.Command, results []engine.Result, entries []engine.Entry)
	// Reset: the engine was replaced by a snapshot.
	Reset()
}
