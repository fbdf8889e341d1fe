package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/raft"
	"github.com/hashicorp/go-hclog"
)

// TestImportEqualsReplayAndServes: `accrual import` over a conformance
// stream prints exactly replay's results and dump, and the data directory
// it builds passes verify and starts a node whose members equal replay's dump line for line
// and that a second node joins with the same state.
func TestImportEqualsReplayAndServes(t *testing.T) {
	for _, name := range []string{"club", "coalition", "airline", "cashback", "retail"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "..", "testdata", "conformance")
			programPath := filepath.Join(dir, name+".program.json")
			stream, err := os.ReadFile(filepath.Join(dir, name+".ndjson"))
			if err != nil {
				t.Fatal(err)
			}
			replayed := runAccrual(t, stream, nil, "replay", "--program", programPath, "--dump")
			data, raftAddr := filepath.Join(t.TempDir(), "data"), freeAddr(t)
			// A small window: most command records are read back from the
			// ledger, by the import and by the node that serves it.
			imported := runAccrual(t, stream, nil, "import", "--program", programPath, "--data", data,
				"--node-id", "n1", "--raft-addr", raftAddr, "--dump", "--records-in-memory", "16")
			if !bytes.Equal(imported, replayed) {
				t.Fatalf("import's output differs from replay's:\n got %s\nwant %s", imported, replayed)
			}
			runAccrual(t, nil, nil, "verify", "--data", data)
			leader, addr := serveDataDir(t, "n1", raftAddr, data)
			got := runAccrual(t, nil, []string{"ACCRUAL_KEY=" + exportKey}, "export", "members", "--addr", addr)
			if want := dumpLines(replayed); !bytes.Equal(got, want) {
				t.Fatalf("the imported node's members differ from replay --dump:\n got %s\nwant %s", got, want)
			}
			resubmitFirst(t, leader, stream)
			joinAndCompare(t, leader)
			if stderr := runAccrualFails(t, "import", "--program", programPath, "--data", data); !strings.Contains(stderr, "is not empty") {
				t.Fatalf("a second import into %s said %q, want a refusal of a used directory", data, stderr)
			}
		})
	}
}

// serveDataDir opens a node on data without ticks (bootstrap does nothing
// on a seeded directory) and its HTTP API; it returns both.
func serveDataDir(t *testing.T, id, raftAddr, data string) (*raft.Node, string) {
	t.Helper()
	node := openTestNode(t, id, raftAddr, data, true)
	addr := serveNodeAPI(t, node, exportKey, "readonly")
	waitFor(t, "the node to be ready", node.Ready)
	return node, addr
}

func openTestNode(t *testing.T, id, raftAddr, data string, bootstrap bool) *raft.Node {
	t.Helper()
	prog, err := loadProgram(filepath.Join("..", "..", "testdata", "club.yaml")) // stands in until the state is loaded
	if err != nil {
		t.Fatal(err)
	}
	node, err := raft.Open(raft.Config{NodeID: id, RaftAddr: raftAddr, HTTPAddr: "unused", DataDir: data,
		Bootstrap: bootstrap, Program: prog, TickInterval: -1, DiskReserveBytes: -1,
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Error, Output: os.Stderr})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	return node
}

// joinAndCompare adds a fresh node to leader's cluster and waits until it
// holds the leader's state (the snapshot, with the program in it).
func joinAndCompare(t *testing.T, leader *raft.Node) {
	t.Helper()
	raftAddr := freeAddr(t)
	joiner := openTestNode(t, "n2", raftAddr, t.TempDir(), false)
	if err := leader.AddVoter("n2", raftAddr, "unused"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the joiner to apply the leader's state", func() bool {
		return joiner.AppliedIndex() >= leader.AppliedIndex() && joiner.StateHash() == leader.StateHash()
	})
	if got, want := joiner.Program().ID, leader.Program().ID; got != want {
		t.Fatalf("joiner runs program %q, the cluster %q", got, want)
	}
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// resubmitFirst submits the history's first command again: the imported
// node must know its id (a duplicate), as replay would.
func resubmitFirst(t *testing.T, node *raft.Node, stream []byte) {
	t.Helper()
	var dec engine.Decoder
	cmds := make([]engine.Command, 1)
	first, _, _ := bytes.Cut(stream, []byte("\n"))
	if dec.Decode(first, &cmds[0]); cmds[0].Invalid {
		t.Fatalf("the first line is not a command: %s", first)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := node.Submit(ctx, cmds)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`"duplicate":true`)) {
		t.Fatalf("the history's first command submitted again answered %s, want a duplicate", out)
	}
}
