package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accrual/accrual/bench/workload"
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
	"github.com/accrual/accrual/raft"
	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
)

const backupKey = "operator-key-0123456789abcdef"

// TestBackupUnderWritesRestoresTheSameState: `accrual backup` taken while
// a node applies writes, then `accrual restore`, gives a data directory
// that passes `accrual verify` and starts a node whose state hash is the
// state hash of the original's log replayed up to the backup's index, and
// that a new node joins.
func TestBackupUnderWritesRestoresTheSameState(t *testing.T) {
	h := workloadHistory(t, workload.Payback, 2_000, 20_000)
	logs := &logRecorder{}
	node, addr := serveForBackup(t, h.prog, logs)
	var applied atomic.Int64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		submitUntil(node, h.stream, stop, &applied)
	}()
	waitFor(t, "some writes", func() bool { return applied.Load() >= 2_000 })
	file := filepath.Join(t.TempDir(), "cluster.backup")
	runAccrual(t, nil, []string{"ACCRUAL_KEY=" + backupKey}, "backup", "--addr", addr, "--out", file)
	waitFor(t, "writes after the backup", func() bool { return applied.Load() >= 4_000 })
	close(stop)
	<-done
	info, err := raft.CheckBackup(file)
	if err != nil {
		t.Fatal(err)
	}
	if node.AppliedIndex() <= info.Index {
		t.Fatalf("no write applied after the backup at %d: the test shows nothing", info.Index)
	}
	replayed := t.TempDir()
	want, err := raft.ReplayLogs(h.prog, replayed, logs.upTo(info.Index))
	if err != nil {
		t.Fatal(err)
	}
	data, raftAddr := filepath.Join(t.TempDir(), "restored"), freeAddr(t)
	runAccrual(t, nil, nil, "restore", "--in", file, "--data", data, "--node-id", "r1", "--raft-addr", raftAddr)
	runAccrual(t, nil, nil, "verify", "--data", data)
	if got, want := ledgerDigest(t, filepath.Join(data, "ledger")), ledgerDigest(t, replayed); got != want {
		t.Fatalf("restored ledger digest %016x, the original's at index %d is %016x", got, info.Index, want)
	}
	restored := openTestNode(t, "r1", raftAddr, data, true)
	waitFor(t, "the restored node to be ready", restored.Ready)
	if got := restored.StateHash(); got != want {
		t.Fatalf("restored state hash %016x, the original's at index %d is %016x", got, info.Index, want)
	}
	joinAndCompare(t, restored)
}

// TestRestoreRefusesADamagedBackup: a backup changed in any byte, or cut
// short, is refused with the damage named, and no data directory is made.
func TestRestoreRefusesADamagedBackup(t *testing.T) {
	h := workloadHistory(t, workload.Payback, 200, 1_000)
	node, addr := serveForBackup(t, h.prog, nil)
	submitUntil(node, h.stream, nil, new(atomic.Int64))
	file := filepath.Join(t.TempDir(), "cluster.backup")
	runAccrual(t, nil, []string{"ACCRUAL_KEY=" + backupKey}, "backup", "--addr", addr, "--out", file)
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		damage func([]byte) []byte
		want   string
	}{
		{"a flipped byte", func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b }, "the backup is damaged"},
		{"cut short", func(b []byte) []byte { return b[:len(b)*2/3] }, "the backup is damaged"},
		{"not a backup", func(b []byte) []byte { return append([]byte("hello, world"), b[:40]...) }, "is not an Accrual backup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.backup")
			if err := os.WriteFile(bad, tc.damage(bytes.Clone(good)), 0o600); err != nil {
				t.Fatal(err)
			}
			data := filepath.Join(t.TempDir(), "restored")
			stderr := runAccrualFails(t, "restore", "--in", bad, "--data", data)
			if !strings.Contains(stderr, tc.want) {
				t.Fatalf("restore said %q, want it to say %q", stderr, tc.want)
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Fatalf("restore of a damaged backup made %s (%v)", data, err)
			}
		})
	}
}

// ledgerDigest is the replica-independent digest of the ledger in dir.
func ledgerDigest(t *testing.T, dir string) uint64 {
	t.Helper()
	sum, err := ledger.VerifyDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Entries == 0 {
		t.Fatalf("the ledger in %s holds no entry: the test shows nothing", dir)
	}
	return sum.Digest
}

// serveForBackup starts a one-node cluster without ticks with an operator
// key, its logs seen by logs (when not nil), and returns its API address.
func serveForBackup(t *testing.T, prog *engine.Program, logs raft.LogObserver) (*raft.Node, string) {
	t.Helper()
	cfg := raft.Config{NodeID: "n1", RaftAddr: freeAddr(t), HTTPAddr: "unused", DataDir: t.TempDir(),
		Bootstrap: true, Program: prog, TickInterval: -1, DiskReserveBytes: -1,
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Error, Output: os.Stderr})}
	cfg.Seams.Logs = logs
	node, err := raft.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	addr := serveNodeAPI(t, node, backupKey, "operator")
	waitFor(t, "the node to be ready", node.Ready)
	return node, addr
}

// submitUntil submits the stream's commands in small batches until they
// run out or stop closes, counting those applied.
func submitUntil(node *raft.Node, stream []byte, stop chan struct{}, applied *atomic.Int64) {
	var dec engine.Decoder
	var cmds []engine.Command
	for line := range bytes.Lines(stream) {
		var c engine.Command
		if dec.Decode(bytes.TrimSpace(line), &c); !c.Invalid && c.Type != engine.TypeQuote {
			cmds = append(cmds, c)
		}
	}
	for off := 0; off < len(cmds); off += 50 {
		select {
		case <-stop:
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if _, err := node.Submit(ctx, cmds[off:min(len(cmds), off+50)]); err == nil {
			applied.Add(int64(min(len(cmds), off+50) - off))
		}
		cancel()
	}
}

// logRecorder keeps a copy of every log the node applies.
type logRecorder struct {
	mu   sync.Mutex
	logs []*hraft.Log
}

func (r *logRecorder) AppliedLogs(logs []*hraft.Log) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range logs {
		c := *l
		c.Data = bytes.Clone(l.Data)
		r.logs = append(r.logs, &c)
	}
}

func (r *logRecorder) Restored(uint64) {}

// upTo yields the recorded logs at or below index.
func (r *logRecorder) upTo(index uint64) func(func(*hraft.Log) bool) {
	return func(yield func(*hraft.Log) bool) {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, l := range r.logs {
			if l.Index > index || !yield(l) {
				return
			}
		}
	}
}

// runAccrualFails runs `accrual args…`, which must fail, and returns its
// stderr.
func runAccrualFails(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "ACCRUAL_TEST_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		t.Fatalf("accrual %v succeeded, want a refusal", args)
	}
	return stderr.String()
}
