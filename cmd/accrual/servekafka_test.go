package main

import (
	"strings"
	"testing"
)

// serve's Kafka flags: none means no consumer; a half-given pair, an
// unknown SASL mechanism or an unreadable CA is refused at start, naming
// the flag.
func TestServeKafkaFlagsAreCheckedAtStart(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string // "" : accepted
		want    bool   // a consumer is made
	}{
		{"no kafka flags", nil, "", false},
		{"brokers and topics", []string{"--kafka-brokers", "127.0.0.1:9092", "--kafka-topics", "a,b"}, "", true},
		{"brokers without topics", []string{"--kafka-brokers", "127.0.0.1:9092"}, "--kafka-topics", false},
		{"topics without brokers", []string{"--kafka-topics", "a"}, "--kafka-brokers", false},
		{"an unknown SASL mechanism", []string{"--kafka-brokers", "h:1", "--kafka-topics", "a", "--kafka-sasl-mechanism", "GSSAPI"}, "--kafka-sasl-mechanism", false},
		{"a CA file that is not there", []string{"--kafka-brokers", "h:1", "--kafka-topics", "a", "--kafka-tls-ca", "/nonexistent/ca.pem"}, "--kafka-tls-ca", false},
		{"a certificate without its key", []string{"--kafka-brokers", "h:1", "--kafka-topics", "a", "--kafka-tls-cert", "c.pem"}, "--kafka-tls-key", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parseServeFlags(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			c, err := f.kafka.consumer(nil)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err %v, want one naming %s", err, tc.wantErr)
			case (c != nil) != tc.want:
				t.Fatalf("consumer made: %v, want %v", c != nil, tc.want)
			}
		})
	}
}
