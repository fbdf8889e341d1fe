package raft

import (
	"context"
	"testing"
	"time"
)

// A node that joins with another program (or the demo one, as a node
// started without --program had) runs the cluster's program: its state
// hash equals the leader's at the same index, also after a restart with
// its own program again.
func TestJoinerRunsTheClusterProgram(t *testing.T) {
	club, coalition := loadProgram(t, "club"), loadProgram(t, "coalition")
	n1 := startNode(t, testConfig(t, "n1", club, true))
	defer n1.Close()
	waitLeader(t, n1)
	if _, err := n1.Submit(context.Background(), purchases(t, club, "a", 0, 20)); err != nil {
		t.Fatal(err)
	}
	cfg2 := testConfig(t, "n2", coalition, false)
	n2 := startNode(t, cfg2)
	if err := n1.AddVoter("n2", cfg2.RaftAddr, cfg2.HTTPAddr); err != nil {
		t.Fatal(err)
	}
	sameHash := func(what string) {
		t.Helper()
		if _, err := submitRetry(t, []*testNode{n1}, purchases(t, club, what, 0, 20)); err != nil {
			t.Fatal(err)
		}
		at := max(n1.AppliedIndex(), n2.AppliedIndex()) + 1
		answers := askHashes(t, []*testNode{n1, n2}, at)
		if _, err := submitRetry(t, []*testNode{n1}, purchases(t, club, what+"x", 0, 5)); err != nil {
			t.Fatal(err)
		}
		a := answers()
		if a[0] != a[1] {
			t.Fatalf("%s: leader %+v, joiner %+v", what, a[0], a[1])
		}
		if id := n2.Program().ID; id != club.ID {
			t.Fatalf("%s: the joiner runs program %q, the cluster %q", what, id, club.ID)
		}
	}
	sameHash("joined")
	n2.Close()
	n2 = startNode(t, cfg2) // Config.Program is coalition's again
	defer n2.Close()
	sameHash("restarted")
}

// A node is not Ready before it has a leader and its state: fresh, it is
// ready once it elected itself; restarted, once the log it held is applied
// again (the views show every member it had).
func TestReadyOnlyWithStateAndLeader(t *testing.T) {
	p := loadProgram(t, "coalition")
	cfg := testConfig(t, "n1", p, true)
	cfg.ElectionTimeout, cfg.HeartbeatTimeout = time.Second, time.Second
	n := startNode(t, cfg)
	if n.Ready() {
		t.Fatal("ready before any election")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := n.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := submitRetry(t, []*testNode{n}, purchases(t, p, "r", 0, 50)); err != nil {
		t.Fatal(err)
	}
	applied := n.AppliedIndex()
	n.Close()

	n = startNode(t, cfg)
	defer n.Close()
	if n.Ready() {
		t.Fatal("ready right after a restart")
	}
	if err := n.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if n.AppliedIndex() < applied {
		t.Fatalf("ready at applied index %d, held %d before the restart", n.AppliedIndex(), applied)
	}
	if _, _, ok, _ := n.Member("Mr49", Stale); !ok {
		t.Fatal("ready, but a member written before the restart is missing from the views")
	}
}
