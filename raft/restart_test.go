package raft

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/accrual/accrual/engine"
)

func snapshotCount(t *testing.T, n *testNode) int {
	es, _ := os.ReadDir(filepath.Join(n.cfg.DataDir, "snapshots"))
	return len(es)
}

// A node restarted from its DataDir (snapshot + log replay, ledger skips
// indexes ≤ Position) serves the same balances and its ledger has no
// duplicate entries.
func TestRestartSameBalancesNoLedgerDuplicates(t *testing.T) {
	p := loadProgram(t, "club")
	cmds := loadCommands(t, "club")
	cfg := testConfig(t, "n1", p, true)
	cfg.SnapshotThreshold, cfg.TrailingLogs, cfg.SnapshotInterval = 4, 2, 50*time.Millisecond
	n := startNode(t, cfg)
	waitLeader(t, n)
	half := len(cmds) / 2
	for i := 0; i < half; i += 100 {
		if _, err := n.Submit(context.Background(), cmds[i:min(i+100, half)]); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a snapshot", 10*time.Second, func() bool { return snapshotCount(t, n) > 0 })
	for i := half; i < len(cmds); i += 100 {
		if _, err := n.Submit(context.Background(), cmds[i:min(i+100, len(cmds))]); err != nil {
			t.Fatal(err)
		}
	}
	syncLedger(t, n)
	hash, pos, seq := n.StateHash(), n.Ledger().Position(), n.Ledger().LastSeq()
	_, eng, ents := offline(p, cmds)
	if seq != uint64(len(ents)) {
		t.Fatalf("ledger %d entries, offline %d", seq, len(ents))
	}
	n.Close()

	n = startNode(t, cfg)
	defer n.Close()
	waitLeader(t, n)
	waitFor(t, "replay", 10*time.Second, func() bool { return n.AppliedIndex() >= pos })
	if h := n.StateHash(); h != hash {
		t.Fatalf("state hash after restart %x, before %x", h, hash)
	}
	syncLedger(t, n)
	if got := n.Ledger().LastSeq(); got != seq {
		t.Fatalf("ledger has %d entries after restart, %d before: duplicates", got, seq)
	}
	if err := eng.Dump(func(v *engine.MemberView) error {
		got, _, ok, err := n.Member(v.Member, Stale)
		if err != nil || !ok {
			t.Fatalf("member %s missing after restart: %v", v.Member, err)
		}
		if got.Earned != v.Earned || got.Redeemed != v.Redeemed || got.Available+got.Pending != v.Available+v.Pending {
			t.Fatalf("member %s: got %+v want %+v", v.Member, got, *v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Position continuity: new writes continue the ledger.
	more := purchases(t, p, "after", 0, 10)
	if _, err := n.Submit(context.Background(), more); err != nil {
		t.Fatal(err)
	}
	syncLedger(t, n)
	if n.Ledger().Position() <= pos || n.Ledger().LastSeq() <= seq {
		t.Fatalf("ledger did not advance: pos %d seq %d", n.Ledger().Position(), n.Ledger().LastSeq())
	}
	if _, err := n.Ledger().Verify(); err != nil {
		t.Fatal(err)
	}
}

// A lagging node catches up by snapshot; a voter is added and removed.
func TestSnapshotCatchUpAddRemoveVoter(t *testing.T) {
	p := loadProgram(t, "coalition")
	tweak := func(c *Config) {
		c.SnapshotThreshold, c.TrailingLogs, c.SnapshotInterval = 4, 2, 50*time.Millisecond
	}
	nodes := startCluster(t, p, 2, tweak)
	defer func() { closeAll(nodes) }()
	for b := range 20 {
		if _, err := submitRetry(t, nodes, purchases(t, p, "a", b*50, 50)); err != nil {
			t.Fatal(err)
		}
	}
	waitConverged(t, nodes)

	// Stop the follower, write a lot (snapshots compact the log), restart it.
	l := waitLeader(t, nodes...)
	fi := 0
	if nodes[0] == l {
		fi = 1
	}
	f := nodes[fi]
	// Removed while it still answers: with one of two voters down there is
	// no quorum, and the leader steps down when its lease runs out (under
	// load, before a removal could commit).
	if err := l.RemoveServer(f.cfg.NodeID); err != nil {
		t.Fatal(err)
	}
	f.Close()
	nodes[fi] = nil
	cfg := testConfig(t, "n3", p, false)
	tweak(&cfg)
	n3 := startNode(t, cfg)
	nodes = append(nodes, n3)
	for b := range 20 {
		if _, err := submitRetry(t, nodes, purchases(t, p, "b", b*50, 50)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "log compaction", 10*time.Second, func() bool {
		first, _ := l.logs.FirstIndex()
		return first > 10
	})
	// n3 joins an existing cluster with a compacted log: it must be sent a snapshot.
	if err := l.AddVoter("n3", cfg.RaftAddr, cfg.HTTPAddr); err != nil {
		t.Fatal(err)
	}
	waitConverged(t, nodes)
	if s := l.Status(); len(s.Servers) != 2 {
		t.Fatalf("servers %+v", s.Servers)
	}
	// The removed node comes back: re-add it, it catches up by snapshot.
	nodes[fi] = startNode(t, f.cfg)
	if err := l.AddVoter(f.cfg.NodeID, f.cfg.RaftAddr, f.cfg.HTTPAddr); err != nil {
		t.Fatal(err)
	}
	if _, err := submitRetry(t, nodes, purchases(t, p, "c", 0, 50)); err != nil {
		t.Fatal(err)
	}
	waitConverged(t, nodes)
	v, _, ok, err := nodes[fi].Member("Mb999", Stale)
	if err != nil || !ok || v.Earned == 0 {
		t.Fatalf("caught-up node view: %+v %v %v", v, ok, err)
	}
	// Leadership transfer works and the new leader serves linearizable reads.
	if err := l.TransferLeadership(); err != nil {
		t.Fatal(err)
	}
	nl := waitLeader(t, nodes...)
	if _, _, ok, err := nl.Member("Ma0", Linearizable); err != nil || !ok {
		t.Fatalf("linearizable read on new leader: %v %v", ok, err)
	}
	_ = fmt.Sprint()
}
