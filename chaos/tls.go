package chaos

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// clusterPKI is a run's throwaway certificate authority and the PEM files
// of every node's certificate: each node serves HTTPS with it and presents
// it on the Raft transport (mutual TLS against the same CA).
type clusterPKI struct {
	caFile string
	pool   *x509.CertPool
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	dir    string
	serial int64
}

// validity is how long the run's certificates last (a long run is 30 min).
const validity = 24 * time.Hour

func newClusterPKI(dir string) (*clusterPKI, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "accrual chaos CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(validity),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &clusterPKI{caFile: caFile, pool: pool, cert: cert, key: key, dir: dir, serial: 1}, nil
}

// issue writes node id's certificate and key, valid for 127.0.0.1 (the
// harness runs every node on loopback), and returns their paths.
func (p *clusterPKI) issue(id string) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	p.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: id},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(validity),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		return "", "", err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certFile = filepath.Join(p.dir, id+".cert.pem")
	keyFile = filepath.Join(p.dir, id+".key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// args are the serve flags of node id: HTTPS and the Raft transport over
// mutual TLS, both with the node's certificate.
func (p *clusterPKI) args(id string) ([]string, error) {
	certFile, keyFile, err := p.issue(id)
	if err != nil {
		return nil, fmt.Errorf("chaos: certificate of %s: %w", id, err)
	}
	return []string{"--tls-cert", certFile, "--tls-key", keyFile,
		"--raft-tls-cert", certFile, "--raft-tls-key", keyFile, "--raft-tls-ca", p.caFile}, nil
}

// clientTLS is the harness's HTTPS client configuration: it trusts the CA.
func (p *clusterPKI) clientTLS() *tls.Config {
	return &tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS12}
}
