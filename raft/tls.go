package raft

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	hraft "github.com/hashicorp/raft"
)

// LoadTLS builds the mutual-TLS configuration of the Raft transport from
// PEM files: this node's certificate and key, and the cluster's CA. Every
// node presents its certificate both ways, and a peer is accepted only if
// the cluster CA signed its certificate: that is also how a node refuses a
// peer from another cluster (another CA). Host names are not checked, since
// Raft addresses are often bare IPs; membership is the CA's signature.
func LoadTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("raft tls: %w", err)
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("raft tls: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("raft tls: no certificate in %s", caFile)
	}
	return ClusterTLS(cert, pool), nil
}

// ClusterTLS is LoadTLS from parsed material.
func ClusterTLS(cert tls.Certificate, ca *x509.CertPool) *tls.Config {
	verify := func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("raft tls: the peer sent no certificate")
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: ca, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err != nil {
			return fmt.Errorf("raft tls: peer not of this cluster: %w", err)
		}
		return nil
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAnyClientCert, // verified below, against the cluster CA
		// The chain is checked in VerifyConnection, without host names.
		InsecureSkipVerify: true,
		VerifyConnection:   verify,
	}
}

// tlsLayer runs mutual TLS over another stream layer: plain TCP, or the
// fault-injecting layer of a chaos run, so that faults hit the bytes under
// TLS as a real network would.
type tlsLayer struct {
	hraft.StreamLayer
	cfg *tls.Config
}

// Accept returns the connection at once; its handshake runs on the first
// read (a peer that never completes it holds only its own connection).
func (t *tlsLayer) Accept() (net.Conn, error) {
	c, err := t.StreamLayer.Accept()
	if err != nil {
		return nil, err
	}
	return tls.Server(c, t.cfg), nil
}

// Dial completes the handshake within timeout, so that a peer of another
// cluster fails here and not on hraft's first RPC.
func (t *tlsLayer) Dial(address hraft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	c, err := t.StreamLayer.Dial(address, timeout)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(c, t.cfg)
	if err := tc.SetDeadline(time.Now().Add(timeout)); err != nil {
		c.Close()
		return nil, err
	}
	if err := tc.Handshake(); err != nil {
		c.Close()
		return nil, err
	}
	if err := tc.SetDeadline(time.Time{}); err != nil {
		c.Close()
		return nil, err
	}
	return tc, nil
}
