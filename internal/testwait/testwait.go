// Package testwait is test support shared by the cluster tests of several
// packages (raft, raft/faultinject, ingest): waiting for a condition with
// a deadline, and a free loopback address. It imports none of ours, so
// package raft's own tests can use it too. Not part of any binary.
package testwait

import (
	"net"
	"testing"
	"time"
)

// pollInterval is how often For checks its condition.
const pollInterval = 20 * time.Millisecond

// For waits until ok returns true, failing t with what after d.
func For(t testing.TB, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(pollInterval)
	}
}

// FreeAddr returns a loopback TCP address that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
