package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/accrual/accrual/api"
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/raft"
	"github.com/hashicorp/go-hclog"
)

// TestExportMembersEqualsReplayDump: `accrual export members` from a node
// fed a conformance stream prints exactly the member lines of `accrual
// replay --dump` over the same stream (the node runs without ticks, so the
// commands keep their own times, as in replay).
func TestExportMembersEqualsReplayDump(t *testing.T) {
	for _, name := range []string{"club", "coalition"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "..", "testdata", "conformance")
			programPath := filepath.Join(dir, name+".program.json")
			stream, err := os.ReadFile(filepath.Join(dir, name+".ndjson"))
			if err != nil {
				t.Fatal(err)
			}
			replayed := runAccrual(t, stream, nil, "replay", "--program", programPath, "--dump")
			want := dumpLines(replayed)
			if len(want) == 0 {
				t.Fatal("replay --dump printed no member line")
			}
			addr := serveStream(t, programPath, stream)
			got := runAccrual(t, nil, []string{"ACCRUAL_KEY=" + exportKey}, "export", "members", "--addr", addr, "--page", "7")
			if !bytes.Equal(got, want) {
				t.Fatalf("export differs from replay --dump:\n got %s\nwant %s", got, want)
			}
		})
	}
}

const exportKey = "readonly-key-0123456789abcdef"

// runAccrual runs this binary as `accrual args…` and returns its stdout.
func runAccrual(t *testing.T, stdin []byte, env []string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "ACCRUAL_TEST_MAIN=1"), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("accrual %v: %v\n%s", args, err, stderr.Bytes())
	}
	return out
}

// dumpLines keeps the member lines of replay's output.
func dumpLines(out []byte) []byte {
	var dump []byte
	for line := range bytes.Lines(out) {
		if bytes.HasPrefix(line, []byte(`{"member":`)) {
			dump = append(dump, line...)
		}
	}
	return dump
}

// serveStream starts a one-node cluster without ticks and its HTTP API,
// applies the stream's commands in order and returns the API address.
func serveStream(t *testing.T, programPath string, stream []byte) string {
	t.Helper()
	prog, err := loadProgram(programPath)
	if err != nil {
		t.Fatal(err)
	}
	node, err := raft.Open(raft.Config{NodeID: "n1", RaftAddr: freeAddr(t), HTTPAddr: "unused", DataDir: t.TempDir(),
		Bootstrap: true, Program: prog, TickInterval: -1, DiskReserveBytes: -1,
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Error, Output: os.Stderr})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	addr := serveNodeAPI(t, node, exportKey, "readonly")
	submitStream(t, node, stream)
	return addr
}

// submitStream submits the stream's valid commands as replay applies them:
// in order, a missing `at` meaning the engine clock (quotes change nothing
// and are left out).
func submitStream(t *testing.T, node *raft.Node, stream []byte) {
	t.Helper()
	var dec engine.Decoder
	var cmds []engine.Command
	for line := range bytes.Lines(stream) {
		var c engine.Command
		if dec.Decode(bytes.TrimSpace(line), &c); !c.Invalid && c.Type != engine.TypeQuote {
			cmds = append(cmds, c)
		}
	}
	for off := 0; off < len(cmds); off += 256 {
		var err error
		for try := 0; try < 100; try++ { // the new node may still be electing itself
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err = node.Submit(ctx, cmds[off:min(len(cmds), off+256)])
			cancel()
			if err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// serveNodeAPI serves node's HTTP API on a free loopback port, with one key
// of the role, until the test ends; it returns the address.
func serveNodeAPI(t *testing.T, node *raft.Node, key, role string) string {
	t.Helper()
	keys, err := api.NewKeys([]api.Key{{Key: key, Role: role}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Config{Addr: "127.0.0.1:0", Backend: nodeBackend{n: node}, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	go srv.ListenAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return srv.Addr()
}
