package api_test

import (
	"crypto/tls"
	"net/http"
	"testing"
	"time"

	"github.com/accrual/accrual/api"
	"github.com/accrual/accrual/api/apitest"
	"github.com/accrual/accrual/internal/pki"
)

// TestTLSServesHTTPSOnly: with --tls-cert/--tls-key the API answers over
// HTTPS (a client trusting the certificate gets 200 with a key) and a
// plain-HTTP request gets no answer.
func TestTLSServesHTTPSOnly(t *testing.T) {
	ca, err := pki.NewCA("accrual-test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue("accrual-test")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := leaf.WriteFiles(t.TempDir(), "node")
	if err != nil {
		t.Fatal(err)
	}
	mem := apitest.New(apitest.MustProgram(testProgram), true)
	s, _ := start(t, mem, func(c *api.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}}
	req, _ := http.NewRequest("GET", "https://"+s.Addr()+"/v1/program", nil)
	req.Header.Set("Authorization", "Bearer "+opKey)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("https: %d", resp.StatusCode)
	}
	plain := &http.Client{Timeout: 2 * time.Second}
	if resp, err := plain.Get("http://" + s.Addr() + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP was served on the TLS port")
		}
	}
}
