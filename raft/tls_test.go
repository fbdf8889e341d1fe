package raft

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// testCA is a throwaway certificate authority of one cluster.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

func (ca *testCA) node(t *testing.T, id string) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: id},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return ClusterTLS(tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, ca.pool)
}

// TestRaftTLSReplicatesAndRefusesOtherClusters: nodes with certificates of
// the cluster's CA replicate over mutual TLS; a node whose certificate comes
// from another CA is added to the configuration but never receives a byte
// of the log, and the cluster keeps committing without it.
func TestRaftTLSReplicatesAndRefusesOtherClusters(t *testing.T) {
	p := loadProgram(t, "coalition")
	ours, theirs := newTestCA(t, "cluster-a"), newTestCA(t, "cluster-b")
	c1 := testConfig(t, "n1", p, true)
	c1.RaftTLS = ours.node(t, "n1")
	n1 := startNode(t, c1)
	waitLeader(t, n1)
	c2 := testConfig(t, "n2", p, false)
	c2.RaftTLS = ours.node(t, "n2")
	n2 := startNode(t, c2)
	if err := n1.AddVoter("n2", c2.RaftAddr, c2.HTTPAddr); err != nil {
		t.Fatal(err)
	}
	if _, err := n1.Submit(context.Background(), purchases(t, p, "tls", 0, 50)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "n2 replicates over TLS", 10*time.Second, func() bool { return n2.AppliedIndex() == n1.AppliedIndex() })

	c3 := testConfig(t, "n3", p, false)
	c3.RaftTLS = theirs.node(t, "n3")
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
