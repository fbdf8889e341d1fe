package raft

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/internal/pki"
)

func newTestCA(t *testing.T, name string) *pki.CA {
	t.Helper()
	ca, err := pki.NewCA(name, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// nodeTLS is the Raft transport configuration of node id, certified by ca.
func nodeTLS(t *testing.T, ca *pki.CA, id string) *tls.Config {
	t.Helper()
	leaf, err := ca.Issue(id)
	if err != nil {
		t.Fatal(err)
	}
	return ClusterTLS(leaf.TLS, ca.Pool)
}

// TestRaftTLSReplicatesAndRefusesOtherClusters: nodes with certificates of
// the cluster's CA replicate over mutual TLS; a node whose certificate comes
// from another CA is added to the configuration but never receives a byte
// of the log, and the cluster keeps committing without it. With fault
// injection on, TLS runs over the fault layer: still required, and a
// partition still cuts the TLS connections.
func TestRaftTLSReplicatesAndRefusesOtherClusters(t *testing.T) {
	for _, faults := range []bool{false, true} {
		name := "plain"
		if faults {
			name = "over-fault-layer"
		}
		t.Run(name, func(t *testing.T) { testRaftTLS(t, faults) })
	}
}

func testRaftTLS(t *testing.T, faults bool) {
	p := loadProgram(t, "coalition")
	ours, theirs := newTestCA(t, "cluster-a"), newTestCA(t, "cluster-b")
	config := func(id string, bootstrap bool, ca *pki.CA) Config {
		c := testConfig(t, id, p, bootstrap)
		c.RaftTLS = nodeTLS(t, ca, id)
		if faults {
			c.FaultsFile = filepath.Join(t.TempDir(), "faults.json")
		}
		return c
	}
	c1 := config("n1", true, ours)
	n1 := startNode(t, c1)
	waitLeader(t, n1)
	c2 := config("n2", false, ours)
	n2 := startNode(t, c2)
	if err := n1.AddVoter("n2", c2.RaftAddr, c2.HTTPAddr); err != nil {
		t.Fatal(err)
	}
	if _, err := n1.Submit(context.Background(), purchases(t, p, "tls", 0, 50)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "n2 replicates over TLS", 10*time.Second, func() bool { return n2.AppliedIndex() == n1.AppliedIndex() })

	lead, follower := n1, n2
	if faults {
		lead = partitionUnderTLS(t, p, n1, n2, c1, c2)
		if lead == n2 {
			follower = n1
		}
	}

	c3 := config("n3", false, theirs)
	n3 := startNode(t, c3)
	// The configuration change commits on n1 and n2 (a majority of three);
	// n3 itself is refused every connection.
	_ = lead.AddVoter("n3", c3.RaftAddr, c3.HTTPAddr)
	if _, err := lead.Submit(context.Background(), purchases(t, p, "tls2", 0, 50)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if n3.AppliedIndex() != 0 {
		t.Fatalf("a node of another cluster applied up to %d", n3.AppliedIndex())
	}
	waitFor(t, "the follower keeps up", 10*time.Second, func() bool { return follower.AppliedIndex() == lead.AppliedIndex() })
}

// partitionUnderTLS blocks n1 and n2 from each other through their fault
// files: nothing more reaches n2 while the rules hold, and it catches up
// once they are gone. It returns the leader after the partition.
func partitionUnderTLS(t *testing.T, p *engine.Program, n1, n2 *testNode, c1, c2 Config) *testNode {
	t.Helper()
	write := func(file, body string) {
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(c1.FaultsFile, `{"block":["`+c2.RaftAddr+`"]}`)
	write(c2.FaultsFile, `{"block":["`+c1.RaftAddr+`"]}`)
	time.Sleep(500 * time.Millisecond) // the files are re-read every 100 ms
	before := n2.AppliedIndex()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_, err := n1.Submit(ctx, purchases(t, p, "cut", 0, 10))
	cancel()
	if err == nil {
		t.Fatal("a write committed with the only follower partitioned away")
	}
	if got := n2.AppliedIndex(); got != before {
		t.Fatalf("n2 applied %d → %d through the partition", before, got)
	}
	write(c1.FaultsFile, "")
	write(c2.FaultsFile, "")
	if _, err := submitRetry(t, []*testNode{n1, n2}, purchases(t, p, "healed", 0, 10)); err != nil {
		t.Fatal(err)
	}
	leader := waitLeader(t, n1, n2)
	waitFor(t, "n2 catches up after the partition", 10*time.Second, func() bool {
		return n2.AppliedIndex() == n1.AppliedIndex()
	})
	return leader
}
