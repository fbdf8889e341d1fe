package raft

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
	"github.com/accrual/accrual/raft/logstore"
	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
)

// Node is one member of the Raft cluster: Raft, the FSM (engine + ledger),
// the group-commit batcher and the read views.
type Node struct {
	cfg   Config
	log   hclog.Logger
	raft  *hraft.Raft
	rp    atomic.Pointer[hraft.Raft] // for the FSM's render check during NewRaft
	trans *hraft.NetworkTransport
	logs  *logstore.Store
	led   *ledger.Ledger
	fsm   *fsm
	disk  *diskGuard     // nil when Config.DiskReserveBytes < 0
	ship  *shippingStore // the snapshot store, for backups (backup.go)
	scrub *scrubber      // the background scrub of both stores (scrub.go)

	ids        *clusterID // the cluster this node belongs to (clusterid.go)
	clock      *clusterClock
	probeLayer hraft.StreamLayer // the transport below the hello (clocksample.go)

	// batcher
	queue    chan *request
	waitq    chan inflightEntry
	queued   atomic.Int64 // commands accepted by Submit and not yet answered
	inflight atomic.Int64 // entries proposed and not yet answered

	readyTerm atomic.Uint64 // term in which this leader's Barrier completed
	readyAt   uint64        // the index the state must reach before Ready (ready.go)
	ready     atomic.Bool
	verifier  verifier
	pager     memberPager // MemberPage's id order (memberpage.go)

	closeMu   sync.RWMutex
	closed    bool
	stop      chan struct{}
	raftDown  chan struct{} // closed once Raft has shut down
	wg        sync.WaitGroup
	waiterWG  sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) a node's data directory and starts it.
func Open(cfg Config) (_ *Node, err error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	dirs, err := makeDirs(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	n := &Node{
		cfg:      cfg,
		log:      cfg.Logger,
		queue:    make(chan *request, cfg.MaxQueue),
		waitq:    make(chan inflightEntry, 1024),
		stop:     make(chan struct{}),
		raftDown: make(chan struct{}),
	}
	defer func() {
		if err != nil {
			n.closeParts()
		}
	}()
	logs, snaps, err := n.openStores(dirs)
	if err != nil {
		return nil, err
	}
	wall := cfg.Seams.Clock
	if wall == nil {
		wall = time.Now
	}
	n.clock = newClusterClock(wall, cfg.ClockToleranceMS, clockSampleAge*cfg.ClockSampleInterval, cfg.Logger.Named("clock"))
	if n.ids, err = loadClusterID(cfg.DataDir, cfg.NodeID, cfg.Logger.Named("transport")); err != nil {
		return nil, err
	}
	n.ids.wallMS = func() int64 { return wall().UnixMilli() }
	if n.trans, n.probeLayer, err = newTransport(cfg, n.ids); err != nil { // transport.go
		return nil, err
	}
	n.fsm = newFSM(cfg.Program, n.led, cfg.Logger.Named("fsm"), n.wantResponses, cfg.RecordsInMemory)
	n.fsm.observer = cfg.Observer
	n.fsm.logObs = cfg.Seams.Logs
	n.fsm.spoolDir = n.ship.dir
	n.fsm.markLocal = n.ship.markLocal
	n.fsm.pager = &n.pager
	rc, err := raftConfig(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Bootstrap {
		if err := n.bootstrap(rc, logs, snaps); err != nil {
			return nil, err
		}
	}
	if n.readyAt, err = lastStateIndex(logs, snaps); err != nil { // ready.go
		return nil, asCorrupt(dirs.raft, cfg.NodeID, err)
	}
	r, err := hraft.NewRaft(rc, n.fsm, logs, logs, snaps, n.trans)
	if err != nil {
		return nil, asCorrupt(dirs.raft, cfg.NodeID, err)
	}
	n.raft = r
	n.rp.Store(r)
	n.verifier.r = r
	n.startBackground()
	return n, nil
}

// dataDirs are the directories of a node's data (see doc.go, Layout).
type dataDirs struct{ raft, snapshots, ledger string }

func makeDirs(dataDir string) (dataDirs, error) {
	d := dataDirs{
		raft:      filepath.Join(dataDir, "raft"),
		snapshots: filepath.Join(dataDir, "snapshots"),
		ledger:    filepath.Join(dataDir, "ledger"),
	}
	for _, dir := range []string{dataDir, d.raft, d.snapshots, d.ledger} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return d, err
		}
	}
	return d, nil
}

// openStores opens the ledger, the Raft log and the snapshot store, and
// returns the stores Raft uses (through the seams, when set).
func (n *Node) openStores(d dataDirs) (RaftStore, hraft.SnapshotStore, error) {
	if err := n.openChecked(d); err != nil { // integrity.go
		return nil, nil, err
	}
	fileSnaps, err := hraft.NewFileSnapshotStoreWithLogger(d.snapshots, n.cfg.SnapshotRetain, n.cfg.Logger.Named("snapshots"))
	if err != nil {
		return nil, nil, err
	}
	shipping := &shippingStore{FileSnapshotStore: fileSnaps, dir: d.snapshots, led: n.led, started: n.started}
	shipping.removeStale()
	n.ship = shipping
	seams := n.cfg.Seams
	return wrap(seams.RaftStore, RaftStore(n.logs)), wrap(seams.Snapshots, hraft.SnapshotStore(shipping)), nil
}

// closeParts closes what a failed Open had opened.
func (n *Node) closeParts() {
	if n.fsm != nil {
		n.fsm.close()
	}
	if n.trans != nil {
		n.trans.Close()
	}
	if n.logs != nil {
		n.logs.Close()
	}
	if n.led != nil {
		n.led.Close()
	}
}

// bootstrap starts a one-node cluster, with a new cluster id and
// Config.Program as its program of record, when the node has no Raft state
// yet.
func (n *Node) bootstrap(rc *hraft.Config, logs RaftStore, snaps hraft.SnapshotStore) error {
	has, err := hraft.HasExistingState(logs, logs, snaps)
	if err != nil || has {
		return err
	}
	if err := n.ids.generate(); err != nil {
		return err
	}
	conf := hraft.Configuration{Servers: []hraft.Server{{Suffrage: hraft.Voter, ID: rc.LocalID, Address: n.trans.LocalAddr()}}}
	if err := hraft.BootstrapCluster(rc, logs, logs, snaps, n.trans, conf); err != nil {
		return err
	}
	return writeGenesis(logs, n.cfg.Program.Source) // genesis.go
}

// startBackground starts the node's goroutines: the disk guard and the
// scrub (when on), the batcher, the waiter, the leadership watcher and the
// clock sampler.
func (n *Node) startBackground() {
	n.startScrub() // scrub.go
	if n.cfg.DiskReserveBytes > 0 {
		n.disk = newDiskGuard(n.cfg.DataDir, uint64(n.cfg.DiskReserveBytes), statfsFreeBytes, n.cfg.Logger.Named("disk"))
		n.disk.poll(time.Now()) // a node started on a full disk refuses from its first command
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.disk.run(n.stop, n.cfg.DiskPollInterval)
		}()
	}
	n.wg.Add(3)
	n.waiterWG.Add(1)
	go n.runBatcher()
	go n.runWaiter()
	go n.watchLeadership()
	go n.runClockSampler() // clocksample.go
}

// wantResponses tells the FSM whether anyone on this node can be waiting
// for results: only a leader has callers. A follower skips rendering.
func (n *Node) wantResponses() bool {
	r := n.rp.Load()
	return r == nil || r.State() == hraft.Leader
}

// isLeader: hraft is in the leader state (IsLeader also waits for the
// term's barrier).
func (n *Node) isLeader() bool {
	r := n.rp.Load()
	return r != nil && r.State() == hraft.Leader
}

// started: hraft.NewRaft has returned (its restore of the latest snapshot
// is over).
func (n *Node) started() bool { return n.rp.Load() != nil }

// Close stops the node: pending callers get ErrClosed or an unknown-outcome
// error, Raft shuts down, the stores are closed.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.closeMu.Lock()
		n.closed = true
		close(n.stop)
		n.closeMu.Unlock()
		n.wg.Wait() // batcher, leadership watcher, disk guard and scrub
		err := n.raft.Shutdown().Error()
		close(n.raftDown)
		close(n.waitq)
		n.waiterWG.Wait()
		n.failQueued()
		fsmErr := n.fsm.close() // after Shutdown: no more batches come
		n.closeErr = errors.Join(err, fsmErr, n.trans.Close(), n.logs.Close(), n.led.Close())
	})
	return n.closeErr
}

func (n *Node) failQueued() {
	for {
		select {
		case req := <-n.queue:
			n.answer(req, nil, ErrClosed)
		default:
			return
		}
	}
}

// Ledger returns the node's ledger (read it; the FSM is its only writer).
func (n *Node) Ledger() *ledger.Ledger { return n.led }

// ErrLedgerBehind is returned by CurrentLedger when the ledger did not
// catch up with the applied index in time.
var ErrLedgerBehind = errors.New("raft: the ledger is behind the applied state")

// ledgerWaitMS bounds how long a read waits for the ledger writer; it trails
// the apply path by at most ledgerDepth batches, so this is only reached
// when the disk stalls.
const ledgerWaitMS = 5000

// CurrentLedger returns the ledger once it holds the entries of every log
// applied when it was called: the writer trails the apply path, and a read
// must show every write acknowledged before it. It does not hold up applies.
func (n *Node) CurrentLedger(ctx context.Context) (*ledger.Ledger, error) {
	ctx, cancel := context.WithTimeout(ctx, ledgerWaitMS*time.Millisecond)
	defer cancel()
	if err := n.fsm.lw.awaitPosition(ctx, n.fsm.applied.Load()); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, ErrLedgerBehind
		}
		return nil, err
	}
	return n.led, nil
}

// Program returns the engine program.
func (n *Node) Program() *engine.Program {
	n.fsm.mu.Lock()
	defer n.fsm.mu.Unlock()
	return n.fsm.eng.Program()
}

// StateHash is a deterministic digest of the engine state (xxhash64 of its
// snapshot stream). Equal on replicas that applied the same index.
func (n *Node) StateHash() uint64 { return n.fsm.stateHash() }

// ErrHashBusy: another StateHashAt is waiting on this node.
var ErrHashBusy = errors.New("raft: a state hash is already being taken on this node")

// StateHashAt returns the state hash right after the first log at or
// above index at is applied, and that log's index. Replicas asked with the
// same at answer for the same index (see hashRequest); the caller picks an
// at no replica has applied yet. Applies stall while the engine is hashed.
func (n *Node) StateHashAt(ctx context.Context, at uint64) (hash, index uint64, err error) {
	q := &hashRequest{at: max(at, 1), done: make(chan struct{})}
	if !n.fsm.hashReq.CompareAndSwap(nil, q) {
		return 0, 0, ErrHashBusy
	}
	select {
	case <-q.done:
		return q.hash, q.index, q.err
	case <-ctx.Done():
		if n.fsm.hashReq.CompareAndSwap(q, nil) {
			return 0, 0, ctx.Err()
		}
		<-q.done // taken by the apply path a moment ago
		return q.hash, q.index, q.err
	}
}

// AppliedIndex returns the Raft index the published views reflect.
func (n *Node) AppliedIndex() uint64 { return n.fsm.applied.Load() }

// HadState reports whether the node opened on Raft state (a log or a
// snapshot) rather than an empty data directory.
func (n *Node) HadState() bool { return n.readyAt > 0 }

// ClockMS returns the engine clock as of AppliedIndex.
func (n *Node) ClockMS() int64 { return n.fsm.clockMS.Load() }

// IsLeader reports whether this node is the leader and ready to serve.
func (n *Node) IsLeader() bool {
	return n.raft.State() == hraft.Leader && n.readyTerm.Load() == n.raft.CurrentTerm()
}

func (n *Node) notLeader() error {
	_, id := n.raft.LeaderWithID()
	e := &NotLeaderError{LeaderID: string(id)}
	if id != "" {
		n.fsm.nodesMu.RLock()
		e.LeaderHTTP = n.fsm.nodes[string(id)]
		n.fsm.nodesMu.RUnlock()
	}
	return e
}

// NodeHTTPAddr returns the replicated HTTP address of a node.
func (n *Node) NodeHTTPAddr(id string) (string, bool) {
	n.fsm.nodesMu.RLock()
	defer n.fsm.nodesMu.RUnlock()
	a, ok := n.fsm.nodes[id]
	return a, ok
}

// watchLeadership runs Barrier on gaining leadership (so the FSM has applied
// everything of earlier terms before reads are served), registers this
// node's HTTP address, and runs the tick proposer while leader.
func (n *Node) watchLeadership() {
	defer n.wg.Done()
	stopTick := func() {}
	defer func() { stopTick() }()
	for {
		select {
		case <-n.stop:
			return
		case isLeader := <-n.raft.LeaderCh():
			stopTick()
			stopTick = func() {}
			n.readyTerm.Store(0)
			if !isLeader {
				continue
			}
			term := n.raft.CurrentTerm()
			if err := n.raft.Barrier(n.cfg.ApplyTimeout).Error(); err != nil {
				n.log.Warn("barrier after election failed", "err", err)
				continue
			}
			if n.raft.State() != hraft.Leader || n.raft.CurrentTerm() != term {
				continue
			}
			// Always (re-)register: besides publishing this node's HTTP
			// address, it puts an FSM-visible entry after the election's
			// noop and the barrier (which never reach ApplyBatch), so a
			// linearizable read's "applied ≥ commit index" can be met.
			if err := n.raft.Apply(encodeRegister(n.cfg.NodeID, n.cfg.HTTPAddr), n.cfg.ApplyTimeout).Error(); err != nil {
				n.log.Warn("register self failed", "err", err)
				continue
			}
			if n.raft.State() != hraft.Leader || n.raft.CurrentTerm() != term {
				continue
			}
			n.readyTerm.Store(term)
			if n.cfg.TickInterval > 0 {
				ctx, cancel := context.WithCancel(context.Background())
				stopTick = cancel
				n.wg.Add(1)
				go n.runTicks(ctx)
			}
		}
	}
}

// runTicks proposes a tick at the cluster's time (clock.go) every
// TickInterval, so maturation and expiry reach the views without other
// traffic. While the clocks disagree it proposes none: a wrong time
// stamped into the log would mature or expire lots for good.
func (n *Node) runTicks(ctx context.Context) {
	defer n.wg.Done()
	t := time.NewTicker(n.cfg.TickInterval)
	defer t.Stop()
	var dec engine.Decoder
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.stop:
			return
		case <-t.C:
			nowMS, ok := n.clock.now()
			if !ok {
				continue // logged by the clock when it lost synchronization
			}
			line := fmt.Appendf(nil, `{"type":"tick","at":%q}`, engine.FormatTime(nowMS))
			cmds := make([]engine.Command, 1)
			dec.Reset()
			dec.Decode(line, &cmds[0])
			if cmds[0].Invalid {
				n.log.Error("tick command invalid", "line", string(line))
				return
			}
			tctx, cancel := context.WithTimeout(ctx, n.cfg.TickInterval*5)
			if _, err := n.Submit(tctx, cmds); err != nil && ctx.Err() == nil {
				n.log.Debug("tick failed", "err", err)
			}
			cancel()
		}
	}
}

// Server is one entry of the Raft configuration.
type Server struct {
	ID       string
	RaftAddr string
	HTTPAddr string // from the replicated directory; "" if not registered
	Voter    bool
}

// Status describes the node as it sees the cluster.
type Status struct {
	ID             string
	State          string // Follower, Candidate, Leader, Shutdown
	LeaderID       string
	LeaderAddr     string // Raft address
	LeaderHTTP     string
	Term           uint64
	CommitIndex    uint64
	AppliedIndex   uint64 // FSM (views) applied index
	LastIndex      uint64
	LedgerPosition uint64
	ClusterID      string      `json:",omitempty"` // "" until a fresh node has joined
	Disk           DiskStatus  // the disk guard (diskguard.go)
	Clock          ClockStatus // the cluster clock (clock.go)
	Scrub          ScrubStatus // the background scrub (scrub.go)
	Queued         int64       // commands waiting or in flight in the batcher
	Servers        []Server
}

// Status returns the node's view of the cluster.
func (n *Node) Status() Status {
	addr, id := n.raft.LeaderWithID()
	s := Status{
		ID: n.cfg.NodeID, State: n.raft.State().String(),
		LeaderID: string(id), LeaderAddr: string(addr),
		Term: n.raft.CurrentTerm(), CommitIndex: n.raft.CommitIndex(),
		AppliedIndex: n.fsm.applied.Load(), LastIndex: n.raft.LastIndex(),
		LedgerPosition: n.led.Position(), Queued: n.queued.Load(), Disk: n.Disk(),
		ClusterID: n.ids.String(), Clock: n.Clock(), Scrub: n.Scrub(),
	}
	s.LeaderHTTP, _ = n.NodeHTTPAddr(s.LeaderID)
	if f := n.raft.GetConfiguration(); f.Error() == nil {
		for _, sv := range f.Configuration().Servers {
			h, _ := n.NodeHTTPAddr(string(sv.ID))
			s.Servers = append(s.Servers, Server{ID: string(sv.ID), RaftAddr: string(sv.Address), HTTPAddr: h, Voter: sv.Suffrage == hraft.Voter})
		}
	}
	return s
}

// AddVoter registers the node's HTTP address (replicated) and adds it to the
// configuration as a voter. Leader only.
func (n *Node) AddVoter(id, raftAddr, httpAddr string) error {
	if n.raft.State() != hraft.Leader {
		return n.notLeader()
	}
	if err := n.raft.Apply(encodeRegister(id, httpAddr), n.cfg.ApplyTimeout).Error(); err != nil {
		return n.mapErr(err)
	}
	return n.mapErr(n.raft.AddVoter(hraft.ServerID(id), hraft.ServerAddress(raftAddr), 0, n.cfg.ApplyTimeout).Error())
}

// SetProgram replaces the program's rules from atMS on (SPEC §2; see
// engine.ScheduleProgram): it is checked here, then proposed through the
// log, and returns once applied, with the FSM's own verdict. Leader only.
func (n *Node) SetProgram(src []byte, atMS int64) error {
	if n.raft.State() != hraft.Leader {
		return n.notLeader()
	}
	if err := n.disk.admit(); err != nil {
		return err
	}
	next, err := engine.ParseProgram(src)
	if err != nil {
		return err
	}
	// A change replaces any change still pending, so it must fit the
	// program in force.
	if err := engine.Compatible(n.Program(), next); err != nil {
		return err
	}
	fut := n.raft.Apply(encodeProgram(src, atMS), n.cfg.ApplyTimeout)
	if err := fut.Error(); err != nil {
		return n.mapErr(err)
	}
	if r, ok := fut.Response().(*entryResponse); ok && r.err != nil {
		return r.err
	}
	return nil
}

// RemoveServer removes a server from the configuration. Leader only.
func (n *Node) RemoveServer(id string) error {
	if n.raft.State() != hraft.Leader {
		return n.notLeader()
	}
	if id == n.cfg.NodeID {
		// A leader removing itself leaves the others waiting out an election
		// while it may still disrupt them; hand leadership over first and let
		// the caller ask the new leader (the not-leader error names it).
		if err := n.TransferLeadership(); err != nil {
			return err
		}
		return n.notLeader()
	}
	if err := n.raft.RemoveServer(hraft.ServerID(id), 0, n.cfg.ApplyTimeout).Error(); err != nil {
		return n.mapErr(err)
	}
	// Forget it at once as a member that held state (clusterid.go), so
	// that it may be added again with an empty data directory.
	if f := n.raft.GetConfiguration(); f.Error() == nil {
		var ids []string
		for _, sv := range f.Configuration().Servers {
			ids = append(ids, string(sv.ID))
		}
		n.ids.pruneMembers(ids)
	}
	return nil
}

// TransferLeadership hands leadership to another voter (rolling restarts).
// It retries while a transfer is already in progress.
func (n *Node) TransferLeadership() error {
	for range 20 {
		err := n.raft.LeadershipTransfer().Error()
		if !errors.Is(err, hraft.ErrLeadershipTransferInProgress) {
			return n.mapErr(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return hraft.ErrLeadershipTransferInProgress
}

func (n *Node) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, hraft.ErrNotLeader):
		return n.notLeader()
	case errors.Is(err, hraft.ErrLeadershipLost):
		return fmt.Errorf("%w: %v", ErrUnknownOutcome, err)
	case errors.Is(err, hraft.ErrRaftShutdown):
		return ErrClosed
	}
	return err
}
