package raft

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/accrual/accrual/internal/pki"
	hraft "github.com/hashicorp/raft"
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
// of the log, and the cluster keeps committing without it.
// (raft/faultinject runs the same cluster over its fault layer.)
func TestRaftTLSReplicatesAndRefusesOtherClusters(t *testing.T) {
	p := loadProgram(t, "coalition")
	ours, theirs := newTestCA(t, "cluster-a"), newTestCA(t, "cluster-b")
	config := func(id string, bootstrap bool, ca *pki.CA) Config {
		c := testConfig(t, id, p, bootstrap)
		c.RaftTLS = nodeTLS(t, ca, id)
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

	c3 := config("n3", false, theirs)
	n3 := startNode(t, c3)
	// The configuration change commits on n1 and n2 (a majority of three);
	// n3 itself is refused every connection.
	_ = n1.AddVoter("n3", c3.RaftAddr, c3.HTTPAddr)
	if _, err := n1.Submit(context.Background(), purchases(t, p, "tls2", 0, 50)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if n3.AppliedIndex() != 0 {
		t.Fatalf("a node of another cluster applied up to %d", n3.AppliedIndex())
	}
	waitFor(t, "n2 keeps up", 10*time.Second, func() bool { return n2.AppliedIndex() == n1.AppliedIndex() })
}

// firstBytes is a stream-layer seam that keeps the first bytes written on
// each connection it dials.
type firstBytes struct {
	hraft.StreamLayer
	mu   sync.Mutex
	seen [][]byte
}

func (f *firstBytes) Dial(address hraft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	c, err := f.StreamLayer.Dial(address, timeout)
	if err != nil {
		return nil, err
	}
	return &firstBytesConn{Conn: c, f: f}, nil
}

type firstBytesConn struct {
	net.Conn
	f    *firstBytes
	once sync.Once
}

func (c *firstBytesConn) Write(b []byte) (int, error) {
	c.once.Do(func() {
		c.f.mu.Lock()
		c.f.seen = append(c.f.seen, bytes.Clone(b[:min(len(b), 8)]))
		c.f.mu.Unlock()
	})
	return c.Conn.Write(b)
}

// TestStreamSeamIsBelowTLS: Seams.Stream wraps TCP, under TLS and the
// cluster-id hello, so what a seam does to bytes (faultinject's drops,
// partitions) hits TLS records as a network would.
func TestStreamSeamIsBelowTLS(t *testing.T) {
	p := loadProgram(t, "coalition")
	ca := newTestCA(t, "cluster-a")
	var seam *firstBytes
	config := func(id string, bootstrap bool) Config {
		c := testConfig(t, id, p, bootstrap)
		c.RaftTLS = nodeTLS(t, ca, id)
		if bootstrap {
			c.Seams.Stream = func(l hraft.StreamLayer) hraft.StreamLayer {
				seam = &firstBytes{StreamLayer: l}
				return seam
			}
		}
		return c
	}
	n1 := startNode(t, config("n1", true))
	defer n1.Close()
	waitLeader(t, n1)
	c2 := config("n2", false)
	n2 := startNode(t, c2)
	defer n2.Close()
	if err := n1.AddVoter("n2", c2.RaftAddr, c2.HTTPAddr); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "n2 replicates", 10*time.Second, func() bool { return n2.AppliedIndex() == n1.AppliedIndex() })
	seam.mu.Lock()
	defer seam.mu.Unlock()
	if len(seam.seen) == 0 {
		t.Fatal("the seam saw no connection")
	}
	for _, b := range seam.seen {
		if b[0] != 0x16 { // a TLS handshake record, not the hello nor hraft's RPC
			t.Fatalf("the seam saw %q first: it is not below TLS", b)
		}
	}
}
