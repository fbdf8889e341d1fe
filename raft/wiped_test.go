package raft

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// A voter whose data directory was wiped restarts empty under its old id:
// the others refuse it, so it neither votes nor acknowledges entries as
// the member it was; removed and added again, it catches up by snapshot.
func TestWipedVoterIsRefusedUntilRemovedAndAdded(t *testing.T) {
	p := loadProgram(t, "coalition")
	nodes := startCluster(t, p, 3, func(c *Config) {
		c.ClockSampleInterval = 50 * time.Millisecond
		c.TrailingLogs = 4
	})
	defer func() { closeAll(nodes) }()
	for i := range 5 {
		if _, err := submitRetry(t, nodes, purchases(t, p, fmt.Sprintf("a%d-", i), 0, 20)); err != nil {
			t.Fatal(err)
		}
	}
	l := waitLeader(t, nodes...)
	v := 1
	if nodes[v] == l {
		v = 2
	}
	id := nodes[v].cfg.NodeID
	waitFor(t, "every node records "+id+" as a member", 10*time.Second, func() bool {
		for _, n := range nodes {
			n.ids.mu.Lock()
			seen := n.ids.seen[id]
			n.ids.mu.Unlock()
			if n != nodes[v] && !seen {
				return false
			}
		}
		return true
	})
	cfg := nodes[v].cfg
	nodes[v].Close()
	if err := os.RemoveAll(cfg.DataDir); err != nil {
		t.Fatal(err)
	}
	nodes[v] = startNode(t, cfg) // same id and address, nothing on disk
	waitFor(t, "the wiped node refused", 10*time.Second, func() bool { return nodes[v].ids.refused.Load() > 0 })
	others := []*testNode{nodes[0], nodes[3-v]}
	if _, err := submitRetry(t, others, purchases(t, p, "b-", 0, 20)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if st := nodes[v].Status(); st.AppliedIndex != 0 || st.ClusterID != "" || st.Term != 0 {
		t.Fatalf("the wiped node took part as its old self: %+v", st)
	}

	l = waitLeader(t, others...)
	if err := l.RemoveServer(id); err != nil {
		t.Fatal(err)
	}
	if err := l.raft.Snapshot().Error(); err != nil { // TrailingLogs 4: the log no longer starts at 1
		t.Fatal(err)
	}
	if err := l.AddVoter(id, cfg.RaftAddr, cfg.HTTPAddr); err != nil {
		t.Fatal(err)
	}
	waitConverged(t, nodes)
	if s, _ := strconv.Atoi(nodes[v].raft.Stats()["last_snapshot_index"]); s == 0 {
		t.Fatal("the node added again caught up without a snapshot")
	}
}
