package faultinject

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/internal/testwait"
	"github.com/accrual/accrual/raft"
	"github.com/hashicorp/go-hclog"
)

var waitFor = testwait.For // the waits of every cluster test here

// Helpers for clusters of real nodes with faults installed, through the
// raft package's exported API (raft's own test helpers are not visible
// here).

func loadProgram(t testing.TB, name string) *engine.Program {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "conformance", name+".program.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.ParseProgram(src)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// purchases returns n valid purchases with ids prefix-<i>, one member each.
func purchases(t testing.TB, p *engine.Program, prefix string, from, n int) []engine.Command {
	t.Helper()
	var dec engine.Decoder
	out := make([]engine.Command, n)
	for i := range out {
		line := fmt.Appendf(nil, `{"type":"purchase","id":"%s-%d","member":"M%s%d","partner":%q,"amount":%d,"at":"2026-01-01T00:00:00Z"}`,
			prefix, from+i, prefix, from+i, p.Partners[0].ID, 10000+(from+i)%7*100)
		dec.Decode(line, &out[i])
		if out[i].Invalid {
			t.Fatalf("invalid: %s", line)
		}
	}
	return out
}

// testNode is a node with its fault injection, controlled by rules.
type testNode struct {
	*raft.Node
	cfg   raft.Config // without the seams: Install sets them on each start
	rules string
	inj   *Injector
}

func testConfig(t testing.TB, id string, p *engine.Program, bootstrap bool) raft.Config {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return raft.Config{
		NodeID: id, RaftAddr: addr, HTTPAddr: "http-" + id, DataDir: filepath.Join(t.TempDir(), id),
		Bootstrap: bootstrap, Program: p, TickInterval: -1,
		HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond,
		LeaderLeaseTimeout: 150 * time.Millisecond,
		Logger:             hclog.New(&hclog.LoggerOptions{Name: id, Level: hclog.Error, Output: os.Stderr}),
	}
}

// startNode installs fault injection (rules file: DATA/faults.json) and
// opens the node, retrying while its port is briefly busy after a restart.
func startNode(t testing.TB, cfg raft.Config) *testNode {
	t.Helper()
	n := &testNode{cfg: cfg, rules: filepath.Join(cfg.DataDir, RulesName)}
	var err error
	if n.inj, err = Install(&cfg, n.rules); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if n.Node, err = raft.Open(cfg); err == nil {
			return n
		}
		time.Sleep(100 * time.Millisecond)
	}
	n.inj.Close()
	t.Fatal(err)
	return nil
}

func (n *testNode) close() {
	n.Close()
	n.inj.Close()
}

// setRules replaces the node's fault rules (re-read within 100 ms).
func (n *testNode) setRules(t testing.TB, rules string) {
	t.Helper()
	if err := os.WriteFile(n.rules, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
}

func waitLeader(t testing.TB, nodes ...*testNode) *testNode {
	t.Helper()
	var l *testNode
	waitFor(t, "a leader", 15*time.Second, func() bool {
		for _, n := range nodes {
			if n != nil && n.IsLeader() {
				l = n
				return true
			}
		}
		return false
	})
	return l
}

// submitRetry submits like a client: on not-leader or unknown outcome it
// tries the other nodes with the same commands (same ids).
func submitRetry(t testing.TB, nodes []*testNode, cmds []engine.Command) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range nodes {
			if n == nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := n.Submit(ctx, cmds)
			cancel()
			if err == nil {
				return nil
			}
			if !(errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrUnknownOutcome) || errors.Is(err, raft.ErrClosed) ||
				errors.Is(err, context.DeadlineExceeded) || errors.Is(err, raft.ErrOverloaded)) {
				return err
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("submitRetry: gave up")
}
