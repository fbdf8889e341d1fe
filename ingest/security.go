package ingest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Security is how the consumer authenticates to the brokers: TLS (the
// system roots, or a CA file; a client certificate for mutual TLS) and
// SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512).
type Security struct {
	TLS                bool   // on when any file below is given too
	CAFile             string // PEM; "": the system roots
	CertFile, KeyFile  string // PEM client certificate, for mutual TLS
	SASLMechanism      string // "", PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
	SASLUser, SASLPass string
}

// Opts are the client options of s.
func (s Security) Opts() ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if s.TLS || s.CAFile != "" || s.CertFile != "" {
		c, err := s.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(c))
	}
	switch s.SASLMechanism {
	case "":
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: s.SASLUser, Pass: s.SASLPass}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: s.SASLUser, Pass: s.SASLPass}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: s.SASLUser, Pass: s.SASLPass}.AsSha512Mechanism()))
	default:
		return nil, fmt.Errorf("ingest: --kafka-sasl-mechanism must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, not %q", s.SASLMechanism)
	}
	return opts, nil
}

func (s Security) tlsConfig() (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ingest: --kafka-tls-ca: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ingest: --kafka-tls-ca %s holds no PEM certificate", s.CAFile)
		}
	}
	if (s.CertFile == "") != (s.KeyFile == "") {
		return nil, fmt.Errorf("ingest: --kafka-tls-cert and --kafka-tls-key go together")
	}
	if s.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("ingest: --kafka-tls-cert/--kafka-tls-key: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
