package chaos

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/accrual/accrual/internal/pki"
)

// clusterPKI is a run's throwaway certificate authority, written to the
// run's directory with every node's certificate: each node serves HTTPS
// with it and presents it on the Raft transport (mutual TLS, same CA).
type clusterPKI struct {
	ca     *pki.CA
	caFile string
	dir    string
}

// certValidity outlasts any run (a long one is 30 minutes).
const certValidity = 24 * time.Hour

func newClusterPKI(dir string) (*clusterPKI, error) {
	ca, err := pki.NewCA("accrual chaos CA", certValidity)
	if err != nil {
		return nil, err
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		return nil, err
	}
	return &clusterPKI{ca: ca, caFile: caFile, dir: dir}, nil
}

// args are the serve flags of node id: HTTPS and the Raft transport over
// mutual TLS, both with the node's certificate.
func (p *clusterPKI) args(id string) ([]string, error) {
	leaf, err := p.ca.Issue(id)
	if err != nil {
		return nil, fmt.Errorf("chaos: certificate of %s: %w", id, err)
	}
	certFile, keyFile, err := leaf.WriteFiles(p.dir, id)
	if err != nil {
		return nil, fmt.Errorf("chaos: certificate of %s: %w", id, err)
	}
	return []string{"--tls-cert", certFile, "--tls-key", keyFile,
		"--raft-tls-cert", certFile, "--raft-tls-key", keyFile, "--raft-tls-ca", p.caFile}, nil
}

// clientTLS is the harness's HTTPS client configuration: it trusts the CA.
func (p *clusterPKI) clientTLS() *tls.Config {
	return &tls.Config{RootCAs: p.ca.Pool, MinVersion: tls.VersionTLS12}
}
