package faultinject

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/internal/pki"
	"github.com/accrual/accrual/raft"
)

// startCluster starts n1 (bootstrapped) and joins the others as voters.
func startCluster(t *testing.T, p *engine.Program, size int, tweak func(*raft.Config)) []*testNode {
	t.Helper()
	nodes := make([]*testNode, size)
	for i := range nodes {
		cfg := testConfig(t, fmt.Sprintf("n%d", i+1), p, i == 0)
		tweak(&cfg)
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
			n.close()
		}
	}
}

// lastSnapshotIndex is the index of the newest snapshot in n's data
// directory (hraft keeps them in snapshots/snapshots/, named
// term-index-ms; .tmp while being written).
func lastSnapshotIndex(n *testNode) uint64 {
	des, _ := os.ReadDir(filepath.Join(n.cfg.DataDir, "snapshots", "snapshots"))
	var last uint64
	for _, d := range des {
		var term, index, ms uint64
		if _, err := fmt.Sscanf(d.Name(), "%d-%d-%d", &term, &index, &ms); err == nil && !strings.HasSuffix(d.Name(), ".tmp") {
			last = max(last, index)
		}
	}
	return last
}

// hashesAt asks every node for StateHashAt(at) at once, lets a write
// reach that index, and returns the answers.
func hashesAt(t *testing.T, nodes []*testNode, at uint64, write func()) [][2]uint64 {
	t.Helper()
	answers := make([][2]uint64, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			h, idx, err := n.StateHashAt(ctx, at)
			if err != nil {
				t.Errorf("node %s: %v", n.cfg.NodeID, err)
			}
			answers[i] = [2]uint64{h, idx}
		})
	}
	time.Sleep(50 * time.Millisecond) // let the requests register
	write()
	wg.Wait()
	return answers
}

// The journals of a cluster in which a follower caught up by snapshot
// install replay, offline and in log order, to the state every replica
// reports at the same index.
func TestJournalsReplayToTheReplicasState(t *testing.T) {
	p := loadProgram(t, "coalition")
	nodes := startCluster(t, p, 3, func(c *raft.Config) {
		c.SnapshotThreshold, c.TrailingLogs, c.SnapshotInterval = 4, 2, 50*time.Millisecond
	})
	defer func() { closeAll(nodes) }()
	write := func(prefix string, batches int) {
		for b := range batches {
			if err := submitRetry(t, nodes, purchases(t, p, prefix, b*20, 20)); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("a", 10)
	l := waitLeader(t, nodes...)
	fi := 1
	if nodes[1] == l {
		fi = 2
	}
	fcfg, behind := nodes[fi].cfg, nodes[fi].AppliedIndex()
	nodes[fi].close()
	nodes[fi] = nil
	write("b", 30)
	waitFor(t, "log compaction", 10*time.Second, func() bool { return lastSnapshotIndex(l) > behind+10 })
	nodes[fi] = startNode(t, fcfg) // behind the compacted log: installs a snapshot
	write("c", 5)
	target := l.Status().LastIndex
	waitFor(t, "convergence", 20*time.Second, func() bool {
		for _, n := range nodes {
			if n.AppliedIndex() < target {
				return false
			}
		}
		return true
	})

	at := uint64(0)
	for _, n := range nodes {
		at = max(at, n.AppliedIndex()+1)
	}
	answers := hashesAt(t, nodes, at, func() { write("d", 1) })
	var paths []string
	for _, n := range nodes {
		paths = append(paths, filepath.Join(n.cfg.DataDir, JournalName))
	}
	closeAll(nodes)
	nodes = nil

	for i := range answers {
		if answers[i] != answers[0] {
			t.Fatalf("replicas answered %v and %v", answers[0], answers[i])
		}
	}
	segs, err := scanJournal(paths[fi])
	if err != nil || len(segs) == 0 || segs[len(segs)-1].start <= behind {
		t.Fatalf("the restarted follower's journal: %v, segments %+v; want the last from a snapshot installed above %d", err, segs, behind)
	}
	r, err := ReplayJournals(paths, p, answers[0][1], t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if r.StateHash != answers[0][0] || r.Compared == 0 {
		t.Fatalf("replay %+v; replicas' hash %x at %d", r, answers[0][0], answers[0][1])
	}
}

// nodeTLS is the Raft transport configuration of node id, certified by ca.
func nodeTLS(t *testing.T, ca *pki.CA, id string) *tls.Config {
	t.Helper()
	leaf, err := ca.Issue(id)
	if err != nil {
		t.Fatal(err)
	}
	return raft.ClusterTLS(leaf.TLS, ca.Pool)
}

// TestPartitionUnderTLS: with mutual TLS, the fault layer runs below TLS
// (raft.Seams.Stream): the nodes replicate through it, a partition written
// to both nodes' rules cuts the TLS connections (nothing more reaches the
// follower, nothing commits), and once the rules are gone the follower
// catches up.
func TestPartitionUnderTLS(t *testing.T) {
	p := loadProgram(t, "coalition")
	ca, err := pki.NewCA("cluster-a", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	nodes := startCluster(t, p, 2, func(c *raft.Config) { c.RaftTLS = nodeTLS(t, ca, c.NodeID) })
	defer closeAll(nodes)
	n1, n2 := nodes[0], nodes[1]
	if err := submitRetry(t, nodes, purchases(t, p, "tls", 0, 50)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "n2 replicates over TLS", 10*time.Second, func() bool { return n2.AppliedIndex() == n1.AppliedIndex() })

	n1.setRules(t, `{"block":["`+n2.cfg.RaftAddr+`"]}`)
	n2.setRules(t, `{"block":["`+n1.cfg.RaftAddr+`"]}`)
	time.Sleep(500 * time.Millisecond) // the files are re-read every 100 ms
	before := n2.AppliedIndex()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_, err = n1.Submit(ctx, purchases(t, p, "cut", 0, 10))
	cancel()
	if err == nil {
		t.Fatal("a write committed with the only follower partitioned away")
	}
	if got := n2.AppliedIndex(); got != before {
		t.Fatalf("n2 applied %d → %d through the partition", before, got)
	}
	n1.setRules(t, "")
	n2.setRules(t, "")
	if err := submitRetry(t, nodes, purchases(t, p, "healed", 0, 10)); err != nil {
		t.Fatal(err)
	}
	l := waitLeader(t, nodes...)
	waitFor(t, "n2 catches up after the partition", 10*time.Second, func() bool {
		return n1.AppliedIndex() == l.AppliedIndex() && n2.AppliedIndex() == l.AppliedIndex()
	})
}
