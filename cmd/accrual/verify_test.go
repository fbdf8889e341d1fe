package main

import (
	"strings"
	"syscall"
	"testing"
)

// TestVerifyRunningNodeSaysStopIt: verify on the data directory of a
// running node says the node must be stopped (not Pebble's "resource
// temporarily unavailable"); once it is, verify passes.
func TestVerifyRunningNodeSaysStopIt(t *testing.T) {
	n := newCrashNode(t, "n1")
	n.start(t, "")
	key := n.key(t)
	pollReady(t, n, key, func(int) {})
	if code, out := call(t, "POST", "http://"+n.http+"/v1/purchases", key, `{"id":"v1","member":"alice","partner":"grocer","amount":4200}`); code != 200 {
		t.Fatalf("purchase: %d %v", code, out)
	}
	err := cmdVerify([]string{"--data", n.data})
	if err == nil || !strings.Contains(err.Error(), "a running node holds its ledger locked; stop the node") {
		t.Fatalf("verify of a running node: %v", err)
	}
	n.stop(t, syscall.SIGTERM)
	if err := cmdVerify([]string{"--data", n.data}); err != nil {
		t.Fatalf("verify of the stopped node: %v", err)
	}
}
