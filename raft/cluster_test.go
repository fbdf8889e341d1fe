package raft

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
)

// startCluster starts n1 (bootstrapped) and joins the others as voters.
func startCluster(t *testing.T, p *engine.Program, size int, tweak func(*Config)) []*testNode {
	t.Helper()
	nodes := make([]*testNode, size)
	for i := range nodes {
		cfg := testConfig(t, fmt.Sprintf("n%d", i+1), p, i == 0)
		if tweak != nil {
			tweak(&cfg)
		}
		nodes[i] = startNode(t, cfg)
	}
	l := waitLeader(t, nodes[0])
	for _, n := range nodes[1:] {
		if err := l.AddVoter(n.cfg.NodeID, n.cfg.RaftAddr, n.cfg.HTTPAddr); err != nil {
			t.Fatal(err)
		}
	}
	return nodes
}

func closeAll(nodes []*testNode) {
	for _, n := range nodes {
		if n != nil {
			n.Close()
		}
	}
}

// waitConverged waits until live nodes applied the leader's last index and
// checks that their state hashes are equal.
func waitConverged(t *testing.T, nodes []*testNode) {
	t.Helper()
	l := waitLeader(t, nodes...)
	// A barrier-like write so every node has a common index to reach.
	target := l.raft.LastIndex()
	waitFor(t, "convergence", 20*time.Second, func() bool {
		for _, n := range nodes {
			if n != nil && n.AppliedIndex() < target {
				return false
			}
		}
		return true
	})
	var h0 uint64
	for i, n := range nodes {
		if n == nil {
			continue
		}
		waitFor(t, "quiet", 10*time.Second, func() bool { return n.AppliedIndex() == l.AppliedIndex() })
		h := n.StateHash()
		if i == 0 || h0 == 0 {
			h0 = h
		} else if h != h0 {
			t.Fatalf("node %s state hash %x != %x", n.cfg.NodeID, h, h0)
		}
		syncLedger(t, n)
		if n.Ledger().Position() != n.AppliedIndex() {
			t.Fatalf("node %s: ledger position %d, applied %d", n.cfg.NodeID, n.Ledger().Position(), n.AppliedIndex())
		}
	}
	ledgersEqual(t, nodes)
}

// ledgersEqual: every replica's ledger holds the same entries (the same
// content digest over the same seqs), whether it applied every command or
// caught up by a snapshot install.
func ledgersEqual(t *testing.T, nodes []*testNode) {
	t.Helper()
	var want ledger.VerifySummary
	for _, n := range nodes {
		if n == nil {
			continue
		}
		syncLedger(t, n)
		got, err := n.Ledger().Verify()
		if err != nil {
			t.Fatalf("node %s: ledger verify: %v", n.cfg.NodeID, err)
		}
		if want.LastSeq == 0 {
			want = got
		} else if got.LastSeq != want.LastSeq || got.Entries != want.Entries || got.Digest != want.Digest {
			t.Fatalf("node %s ledger: seq %d, %d entries, digest %x; another node: seq %d, %d entries, digest %x",
				n.cfg.NodeID, got.LastSeq, got.Entries, got.Digest, want.LastSeq, want.Entries, want.Digest)
		}
	}
	if want.LastSeq == 0 {
		t.Fatal("no ledger entries to compare")
	}
}

type hashAnswer struct{ hash, index uint64 }

// askHashes asks every node for StateHashAt(at) at once; the function it
// returns waits for the answers.
func askHashes(t *testing.T, nodes []*testNode, at uint64) func() []hashAnswer {
	answers := make([]hashAnswer, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			h, idx, err := n.StateHashAt(ctx, at)
			if err != nil {
				t.Errorf("node %s: %v", n.cfg.NodeID, err)
			}
			answers[i] = hashAnswer{h, idx}
		}()
	}
	return func() []hashAnswer { wg.Wait(); return answers }
}

// StateHashAt asked of every replica with the same index answers for that
// same index with the same hash, while writes go on.
func TestStateHashAtSameIndexOnEveryReplica(t *testing.T) {
	p := loadProgram(t, "coalition")
	nodes := startCluster(t, p, 3, nil)
	defer func() { closeAll(nodes) }()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for b := 0; ; b++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := submitRetry(t, nodes, purchases(t, p, "h", b*20, 20)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	defer func() { close(stop); <-done }()
	waitFor(t, "some writes", 10*time.Second, func() bool { return nodes[0].AppliedIndex() > 20 })
	at := uint64(0)
	for _, n := range nodes {
		at = max(at, n.AppliedIndex()+5)
	}
	answers := askHashes(t, nodes, at)()
	for i, a := range answers {
		if a.index < at || a != answers[0] {
			t.Fatalf("asked at %d: node %d answered %+v, node 0 %+v", at, i, a, answers[0])
		}
	}
	if _, _, err := nodes[0].StateHashAt(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
}

func TestClusterFailoverExactlyOnce(t *testing.T) {
	p := loadProgram(t, "coalition")
	nodes := startCluster(t, p, 3, nil)
	defer func() { closeAll(nodes) }()

	if _, err := submitRetry(t, nodes, purchases(t, p, "warm", 0, 100)); err != nil {
		t.Fatal(err)
	}
	waitConverged(t, nodes)
	for _, n := range nodes {
		if s := n.Status(); len(s.Servers) != 3 || s.LeaderHTTP == "" {
			t.Fatalf("status %+v", s)
		}
	}
	follower := nodes[1]
	if follower.IsLeader() {
		follower = nodes[2]
	}
	if _, err := follower.Submit(context.Background(), purchases(t, p, "x", 0, 1)); err == nil {
		t.Fatal("follower accepted a submit")
	} else if nl, ok := err.(*NotLeaderError); !ok || nl.LeaderHTTP == "" {
		t.Fatalf("follower error %v", err)
	}

	// Concurrent load; the leader is closed in the middle of it.
	const workers, batches, per = 4, 30, 50
	var acked sync.Map // id → first result line
	var done atomic.Int64
	var wg sync.WaitGroup
	var live []*testNode
	var liveMu sync.Mutex
	live = append(live, nodes...)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				cmds := purchases(t, p, fmt.Sprintf("w%d", w), b*per, per)
				liveMu.Lock()
				ns := append([]*testNode(nil), live...)
				liveMu.Unlock()
				res, err := submitRetry(t, ns, cmds)
				if err != nil {
					t.Error(err)
					return
				}
				for i, line := range splitLines(res) {
					acked.Store(string(cmds[i].ID), line)
				}
				done.Add(1)
			}
		}()
	}
	waitFor(t, "some load", 20*time.Second, func() bool { return done.Load() >= 20 })
	old := waitLeader(t, nodes...)
	oldIdx := 0
	for i, n := range nodes {
		if n == old {
			oldIdx = i
		}
	}
	old.Close()
	liveMu.Lock()
	live[oldIdx] = nil
	liveMu.Unlock()
	wg.Wait()
	if t.Failed() {
		return
	}
	survivors := append([]*testNode(nil), nodes...)
	survivors[oldIdx] = nil
	newLeader := waitLeader(t, survivors...)
	if newLeader == old {
		t.Fatal("old leader still leader")
	}

	// Every acknowledged id resubmitted is a duplicate with the same outcome.
	var ids []engine.Command
	var firsts [][]byte
	acked.Range(func(k, v any) bool {
		var dec engine.Decoder
		var c engine.Command
		var w, i int
		fmt.Sscanf(k.(string), "w%d-%d", &w, &i)
		c = purchases(t, p, fmt.Sprintf("w%d", w), i, 1)[0]
		_ = dec
		ids = append(ids, c)
		firsts = append(firsts, v.([]byte))
		return true
	})
	if len(ids) != workers*batches*per {
		t.Fatalf("acked %d, want %d", len(ids), workers*batches*per)
	}
	res, err := submitRetry(t, survivors, ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range splitLines(res) {
		if !bytes.Contains(line, []byte(`"duplicate":true`)) {
			t.Fatalf("resubmitted %s: %s (first %s)", ids[i].ID, line, firsts[i])
		}
		if want := bytes.TrimSuffix(firsts[i], []byte("}")); !bytes.HasPrefix(line, want) {
			t.Fatalf("resubmitted %s: %s, first %s", ids[i].ID, line, firsts[i])
		}
	}
	// Exactly once: each member bought once, so earned = its first points.
	for i := 0; i < len(ids); i += 97 {
		v, _, ok, err := newLeader.Member(string(ids[i].Member), Linearizable)
		if err != nil || !ok {
			t.Fatalf("member %s: %v %v", ids[i].Member, ok, err)
		}
		if !bytes.Contains(firsts[i], fmt.Appendf(nil, `"points":%d,`, v.Earned)) {
			t.Fatalf("member %s earned %d, first result %s", ids[i].Member, v.Earned, firsts[i])
		}
		syncLedger(t, newLeader)
		ents, err := newLeader.Ledger().CommandEntries(string(ids[i].ID))
		if err != nil {
			t.Fatal(err)
		}
		earns := 0
		for _, e := range ents {
			if e.Kind == 1 {
				earns++
			}
		}
		if earns != 1 {
			t.Fatalf("command %s has %d earn entries", ids[i].ID, earns)
		}
	}
	waitConverged(t, survivors)

	// The old leader restarts from its DataDir and catches up.
	nodes[oldIdx] = startNode(t, old.cfg)
	waitConverged(t, nodes)
	for _, n := range nodes {
		syncLedger(t, n)
		if _, err := n.Ledger().Verify(); err != nil {
			t.Fatalf("%s: %v", n.cfg.NodeID, err)
		}
	}
}
