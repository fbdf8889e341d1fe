package logstore

import (
	"encoding/binary"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// countFSM sums uint64 commands; its snapshot is (count, sum).
type countFSM struct {
	mu         sync.Mutex
	count, sum uint64
}

func (f *countFSM) Apply(l *raft.Log) interface{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count++
	f.sum += binary.BigEndian.Uint64(l.Data)
	return f.count
}

func (f *countFSM) state() (uint64, uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count, f.sum
}

func (f *countFSM) Snapshot() (raft.FSMSnapshot, error) {
	c, s := f.state()
	return snap{c, s}, nil
}

func (f *countFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var b [16]byte
	if _, err := io.ReadFull(rc, b[:]); err != nil {
		return err
	}
	f.mu.Lock()
	f.count, f.sum = binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	f.mu.Unlock()
	return nil
}

type snap struct{ count, sum uint64 }

func (s snap) Persist(sink raft.SnapshotSink) error {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], s.count)
	binary.BigEndian.PutUint64(b[8:], s.sum)
	if _, err := sink.Write(b[:]); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}
func (snap) Release() {}

type node struct {
	r     *raft.Raft
	fsm   *countFSM
	store *Store
}

func startNode(t *testing.T, storeDir, snapDir string, bootstrap bool) *node {
	t.Helper()
	conf := raft.DefaultConfig()
	conf.LocalID = "n1"
	conf.HeartbeatTimeout = 50 * time.Millisecond
	conf.ElectionTimeout = 50 * time.Millisecond
	conf.LeaderLeaseTimeout = 50 * time.Millisecond
	conf.CommitTimeout = 5 * time.Millisecond
	conf.SnapshotThreshold = 1 << 30 // snapshots only when asked
	conf.SnapshotInterval = time.Hour
	conf.TrailingLogs = 10
	conf.BatchApplyCh = true
	conf.LogOutput = io.Discard
	conf.LogLevel = "ERROR"

	store := openT(t, storeDir)
	snaps, err := raft.NewFileSnapshotStore(snapDir, 2, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	addr, trans := raft.NewInmemTransport("n1")
	if bootstrap {
		err := raft.BootstrapCluster(conf, store, store, snaps, trans, raft.Configuration{
			Servers: []raft.Server{{ID: conf.LocalID, Address: addr}},
		})
		if err != nil {
			t.Fatalf("bootstrap: %v", err)
		}
	} else {
		has, err := raft.HasExistingState(store, store, snaps)
		if err != nil || !has {
			t.Fatalf("HasExistingState after restart = %v, %v", has, err)
		}
	}
	fsm := &countFSM{}
	r, err := raft.NewRaft(conf, fsm, store, store, snaps, trans)
	if err != nil {
		t.Fatalf("NewRaft: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.State() != raft.Leader {
		if time.Now().After(deadline) {
			t.Fatal("no leader")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return &node{r: r, fsm: fsm, store: store}
}

func (n *node) stop(t *testing.T) {
	t.Helper()
	if err := n.r.Shutdown().Error(); err != nil {
		t.Fatal(err)
	}
	if err := n.store.Close(); err != nil {
		t.Fatal(err)
	}
}

func applyN(t *testing.T, r *raft.Raft, from, to uint64) {
	t.Helper()
	futs := make([]raft.ApplyFuture, 0, to-from+1)
	for i := from; i <= to; i++ {
		cmd := make([]byte, 8) // fresh slice per Apply: raft's log cache keeps it
		binary.BigEndian.PutUint64(cmd, i)
		futs = append(futs, r.Apply(cmd, 5*time.Second))
	}
	for _, f := range futs {
		if err := f.Error(); err != nil {
			t.Fatalf("Apply: %v", err)
		}
	}
}

func waitApplied(t *testing.T, f *countFSM, count, sum uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, s := f.state()
		if c == count && s == sum {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("fsm = (%d, %d), want (%d, %d)", c, s, count, sum)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func sum1toN(n uint64) uint64 { return n * (n + 1) / 2 }

// TestRaftSingleNodeRestart runs hashicorp/raft over the store: bootstrap,
// apply, snapshot + log compaction (DeleteRange at the head), more applies,
// restart from the same directories, and check the FSM ends up identical.
func TestRaftSingleNodeRestart(t *testing.T) {
	storeDir, snapDir := t.TempDir(), t.TempDir()

	n := startNode(t, storeDir, snapDir, true)
	applyN(t, n.r, 1, 200)
	waitApplied(t, n.fsm, 200, sum1toN(200))
	if err := n.r.Snapshot().Error(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	first, last := firstLast(t, n.store)
	if first <= 1 || last < 200 {
		t.Fatalf("after snapshot First/Last = %d/%d, want compaction of the head", first, last)
	}
	applyN(t, n.r, 201, 250)
	waitApplied(t, n.fsm, 250, sum1toN(250))
	lastBefore := n.r.LastIndex()
	n.stop(t)

	n = startNode(t, storeDir, snapDir, false)
	defer n.stop(t)
	// Snapshot restore + replay of the entries after it.
	waitApplied(t, n.fsm, 250, sum1toN(250))
	if li := n.r.LastIndex(); li <= lastBefore {
		t.Fatalf("LastIndex after restart = %d, want > %d (new leader noop)", li, lastBefore)
	}
	applyN(t, n.r, 251, 260)
	waitApplied(t, n.fsm, 260, sum1toN(260))
	if term, err := n.store.GetUint64([]byte("CurrentTerm")); err != nil || term < 2 {
		t.Fatalf("CurrentTerm = %d, %v; want >= 2 after restart election", term, err)
	}
}
