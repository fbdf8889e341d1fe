package raft

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/internal/testwait"
	"github.com/hashicorp/go-hclog"
)

var (
	waitFor  = testwait.For // the waits of every cluster test here
	freeAddr = testwait.FreeAddr
)

func loadProgram(t testing.TB, name string) *engine.Program {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "testdata", "conformance", name+".program.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.ParseProgram(src)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// loadCommands decodes a conformance stream and keeps the valid commands.
func loadCommands(t testing.TB, name string) []engine.Command {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "testdata", "conformance", name+".ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	var dec engine.Decoder
	var out []engine.Command
	for _, line := range bytes.Split(src, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var c engine.Command
		dec.Decode(line, &c)
		if !c.Invalid {
			out = append(out, c)
		}
	}
	return out
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

type testNode struct {
	cfg Config
	*Node
}

const testRecordsInMemory = 8

func testConfig(t testing.TB, id string, p *engine.Program, bootstrap bool) Config {
	return Config{
		NodeID: id, RaftAddr: freeAddr(t), HTTPAddr: "http-" + id, DataDir: filepath.Join(t.TempDir(), id),
		Bootstrap: bootstrap, Program: p, TickInterval: -1,
		// A small window: every test also runs the prefetch of evicted
		// command records (restarts, snapshot installs, duplicates).
		RecordsInMemory:  testRecordsInMemory,
		HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond,
		LeaderLeaseTimeout: 150 * time.Millisecond,
		Logger:             hclog.New(&hclog.LoggerOptions{Name: id, Level: hclog.Error, Output: os.Stderr}),
	}
}

func startNode(t testing.TB, cfg Config) *testNode {
	t.Helper()
	var n *Node
	var err error
	for range 50 { // the port may be briefly busy after a restart
		if n, err = Open(cfg); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &testNode{cfg: cfg, Node: n}
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
// finds the leader and retries the same commands (same ids).
func submitRetry(t testing.TB, nodes []*testNode, cmds []engine.Command) ([]byte, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range nodes {
			if n == nil || n.closedFlag() {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			res, err := n.Submit(ctx, cmds)
			cancel()
			if err == nil {
				return res, nil
			}
			if !(errors.Is(err, ErrNotLeader) || errors.Is(err, ErrUnknownOutcome) || errors.Is(err, ErrClosed) ||
				errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrOverloaded)) {
				return nil, err
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil, errors.New("submitRetry: gave up")
}

func (n *Node) closedFlag() bool {
	n.closeMu.RLock()
	defer n.closeMu.RUnlock()
	return n.closed
}

func splitLines(b []byte) [][]byte {
	return bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}

// offline applies commands with a fresh engine and renders NDJSON.
// offline applies cmds in one batch to a store-backed engine, as a node's
// is: one batch needs no store (every record it names is its own), and the
// snapshot, hence the state hash, has the node's form.
func offline(p *engine.Program, cmds []engine.Command) ([]byte, *engine.Engine, []engine.Entry) {
	eng := engine.NewWithOptions(p, engine.Options{StoreBacked: true})
	res, ents := eng.Apply(cmds, nil, nil)
	var out []byte
	for i := range res {
		out = eng.AppendJSON(out, &res[i])
		out = append(out, '\n')
	}
	return out, eng, ents
}

func engineHash(e *engine.Engine) uint64 {
	h := newHash64()
	if err := e.Snapshot(h); err != nil {
		panic(err)
	}
	return h.Sum64()
}

// syncLedger waits until n's ledger holds every log n has applied.
func syncLedger(t *testing.T, n *testNode) {
	t.Helper()
	if _, err := n.CurrentLedger(context.Background()); err != nil {
		t.Fatalf("%s: ledger: %v", n.cfg.NodeID, err)
	}
}
