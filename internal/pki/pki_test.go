package pki

import (
	"crypto/tls"
	"crypto/x509"
	"path/filepath"
	"testing"
	"time"
)

// A leaf verifies against its own CA, for both server and client use, and
// not against another CA; its files load back as a key pair.
func TestLeafVerifiesOnlyAgainstItsCA(t *testing.T) {
	ours, err := NewCA("ours", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := NewCA("theirs", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ours.Issue("n1")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(leaf.TLS.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: ours.Pool, KeyUsages: []x509.ExtKeyUsage{usage}, DNSName: "127.0.0.1"}); err != nil {
			t.Fatalf("usage %v against its CA: %v", usage, err)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: theirs.Pool}); err == nil {
		t.Fatal("a leaf verified against another CA")
	}
	certFile, keyFile, err := leaf.WriteFiles(t.TempDir(), "n1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		t.Fatalf("written files: %v", err)
	}
	if filepath.Base(certFile) != "n1.cert.pem" || filepath.Base(keyFile) != "n1.key.pem" {
		t.Fatalf("file names %s, %s", certFile, keyFile)
	}
}
