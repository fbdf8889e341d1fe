package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tryBody is the purchase body of serve's printed try line.
var tryBody = regexp.MustCompile(`-d '([^']*)'`)

// pollReady polls a starting node until /readyz answers 200, checking on
// the way that serve printed its try lines only once ready and that every
// answer of every read is one the node can stand behind (probe, each
// round). It returns the try line's purchase body.
func pollReady(t *testing.T, n *crashNode, key string, probe func(round int)) string {
	t.Helper()
	for round := 0; round < 1500; round++ {
		printed := strings.Contains(n.out.String(), "try:")
		code, _ := call(t, "GET", "http://"+n.http+"/readyz", "", "")
		if printed && code != 200 {
			t.Fatalf("serve printed its try lines while /readyz answers %d:\n%s", code, n.out)
		}
		probe(round)
		if code == 200 {
			for range 100 { // printed right after the flag is set
				if m := tryBody.FindStringSubmatch(n.out.String()); m != nil {
					return m[1]
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Fatalf("ready, but no try line:\n%s", n.out)
		}
		if n.dead() {
			t.Fatalf("serve exited (%v):\n%s", n.err, n.out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("never ready:\n%s", n.out)
	return ""
}

// TestServeReadyOnlyWithStateAndLeader: a fresh node answers /readyz 200
// only once it can take the purchase of its printed try line (at a partner
// of its program, here the club's), and a restarted one only once its
// state is back: meanwhile a stale read or the stats answer 503, never a
// missing member or zero figures.
func TestServeReadyOnlyWithStateAndLeader(t *testing.T) {
	n := newCrashNode(t, "n1", "--program", "../../testdata/club.yaml")
	n.start(t, "")
	key := n.key(t)
	base := "http://" + n.http
	body := pollReady(t, n, key, func(int) {})
	if code, out := call(t, "POST", base+"/v1/purchases", key, body); code != 200 || out["status"] != "ok" {
		t.Fatalf("the try line's purchase %s right when ready: %d %v", body, code, out)
	}
	if !strings.Contains(n.out.String(), `serving program "demo-club"`) {
		t.Fatalf("serve did not name the program it serves:\n%s", n.out)
	}
	const members = 30
	for i := range members {
		b := fmt.Sprintf(`{"id":"r%d","member":"m%d","partner":"cafe","amount":1000}`, i, i)
		if code, out := call(t, "POST", base+"/v1/purchases", key, b); code != 200 {
			t.Fatalf("purchase %d: %d %v", i, code, out)
		}
	}
	n.stop(t, syscall.SIGKILL)
	n.start(t, "")
	pollReady(t, n, key, func(int) {
		code, out := call(t, "GET", base+"/v1/members/m29?consistency=stale", key, "")
		if code != 0 && code != 503 && code != 200 {
			t.Fatalf("stale read of a member while restarting: %d %v", code, out)
		}
		scode, stats := call(t, "GET", base+"/v1/stats", key, "")
		if scode == 200 && stats["members"] != float64(members+1) {
			t.Fatalf("stats while restarting: %v", stats)
		}
	})
	if code, out := call(t, "GET", base+"/v1/members/m29?consistency=stale", key, ""); code != 200 {
		t.Fatalf("stale read once ready: %d %v", code, out)
	}
}

// TestServeJoinerTakesTheClusterProgram: a node joining without --program
// serves the cluster's program (not the demo one) and its state hash is
// the leader's at the same index; one joining with another --program is
// refused before it joins, naming both programs.
func TestServeJoinerTakesTheClusterProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes")
	}
	n1 := newCrashNode(t, "n1", "--program", "../../testdata/club.yaml")
	n1.start(t, "")
	key := n1.key(t)
	pollReady(t, n1, key, func(int) {})
	for i := range 10 {
		b := fmt.Sprintf(`{"id":"j%d","member":"m%d","partner":"cafe","amount":1000}`, i, i)
		if code, out := call(t, "POST", "http://"+n1.http+"/v1/purchases", key, b); code != 200 {
			t.Fatalf("purchase %d: %d %v", i, code, out)
		}
	}
	keys := filepath.Join(n1.data, "keys.yaml")
	n2 := newCrashNode(t, "n2", "--join", n1.http, "--join-key", key, "--keys", keys)
	n2.start(t, "")
	pollReady(t, n2, key, func(int) {})
	if !strings.Contains(n2.out.String(), `serving program "demo-club"`) {
		t.Fatalf("the joiner does not serve the cluster's program:\n%s", n2.out)
	}
	applied, _ := n1.status(t, key)["AppliedIndex"].(float64)
	at := fmt.Sprintf("/v1/cluster/state-hash?at=%d", uint64(applied)+1)
	hashes := make(chan map[string]any, 2)
	for _, n := range []*crashNode{n1, n2} {
		go func() { _, out := call(t, "GET", "http://"+n.http+at, key, ""); hashes <- out }()
	}
	if h1, h2 := <-hashes, <-hashes; h1["state_hash"] == nil || fmt.Sprint(h1) != fmt.Sprint(h2) {
		t.Fatalf("state hashes differ: %v, %v", h1, h2)
	}
	n3 := newCrashNode(t, "n3", "--join", n1.http, "--join-key", key, "--keys", keys, "--program", "../../testdata/coalition.yaml")
	n3.start(t, "")
	select {
	case <-n3.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("a joiner with another --program was not refused:\n%s", n3.out)
	}
	if out := n3.out.String(); n3.err == nil || !strings.Contains(out, `(program "demo-coalition") differs from the program of the cluster`) ||
		!strings.Contains(out, `"demo-club"`) {
		t.Fatalf("refusal (%v):\n%s", n3.err, out)
	}
	if servers, _ := n1.status(t, key)["Servers"].([]any); len(servers) != 2 {
		t.Fatalf("the refused node joined anyway: %v", servers)
	}
}
