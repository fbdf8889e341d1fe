package faultinject

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accrual/accrual/raft"
)

// ledgerBehindNode runs a one-node cluster, keeps a copy of its ledger,
// runs it on through snapshots, stops it, and puts the old ledger back:
// a ledger that lost writes the newest snapshots count (as when Pebble
// ends the replay of a damaged WAL at the damage). It returns the config,
// and the full run's ledger digest.
func ledgerBehindNode(t *testing.T, trailingLogs uint64) (raft.Config, uint64) {
	t.Helper()
	p := loadProgram(t, "club")
	cfg := testConfig(t, "n1", p, true)
	cfg.SnapshotThreshold, cfg.TrailingLogs, cfg.SnapshotInterval = 4, trailingLogs, 50*time.Millisecond
	cfg.SnapshotRetain = 2
	n := startNode(t, cfg)
	waitLeader(t, n)
	submit := func(from, to int) {
		for i := from; i < to; i++ {
			if _, err := n.Submit(context.Background(), purchases(t, p, "a", i*10, 10)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond) // let snapshots be taken between entries
		}
		if _, err := n.CurrentLedger(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	submit(0, 5)
	lost := n.Ledger().Position()
	n.close()
	old := filepath.Join(t.TempDir(), "ledger")
	if err := os.CopyFS(old, os.DirFS(filepath.Join(cfg.DataDir, "ledger"))); err != nil {
		t.Fatal(err)
	}
	n = startNode(t, cfg)
	waitLeader(t, n)
	submit(5, 40)
	waitFor(t, "two snapshots past the copied ledger's position", 10*time.Second, func() bool {
		return snapshotsAbove(t, cfg.DataDir, lost) >= 2
	})
	sum, err := n.Ledger().Verify()
	if err != nil {
		t.Fatal(err)
	}
	n.close()
	ledgerDir := filepath.Join(cfg.DataDir, "ledger")
	if err := os.RemoveAll(ledgerDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(old, ledgerDir); err != nil {
		t.Fatal(err)
	}
	return cfg, sum.Digest
}

// Rule: a ledger behind the newest snapshots (it lost writes their state
// counts) is never paired with them: the node starts from an older state
// the log can bring forward, and ends with the whole ledger (every entry
// re-derived) and every command record (a retry from the lost range is a
// duplicate).
func TestLedgerBehindTheSnapshotRestartsFromAnOlderState(t *testing.T) {
	cfg, digest := ledgerBehindNode(t, 100000) // the whole log is kept
	p := cfg.Program
	n := startNode(t, cfg)
	defer n.close()
	waitLeader(t, n)
	if _, err := n.CurrentLedger(context.Background()); err != nil {
		t.Fatal(err)
	}
	sum, err := n.Ledger().Verify()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Digest != digest {
		t.Fatalf("ledger digest %016x after the restart, %016x before the writes were lost", sum.Digest, digest)
	}
	out, err := n.Submit(context.Background(), purchases(t, p, "a", 200, 10)) // written after the old ledger's copy
	if err != nil {
		t.Fatal(err)
	}
	if got := bytes.Count(out, []byte(`"duplicate":true`)); got != 10 {
		t.Fatalf("retrying 10 commands of the lost range: %d duplicates; answers %s", got, out)
	}
	aside, _ := filepath.Glob(filepath.Join(cfg.DataDir, "snapshots-ahead-of-ledger", "*"))
	if len(aside) == 0 {
		t.Fatal("no snapshot was set aside")
	}
}

// Rule: when the log no longer holds what would rebuild the lost ledger
// writes, the node refuses to start, naming the ledger and how to rejoin.
func TestLedgerBehindTheSnapshotWithoutTheLogStopsTheNode(t *testing.T) {
	cfg, _ := ledgerBehindNode(t, 2) // a short log
	n, err := raft.Open(cfg)
	if err == nil {
		n.Close()
	}
	wantRefusal(t, err, filepath.Join(cfg.DataDir, "ledger"), "accrual cluster remove --id n1")
}

// snapshotsAbove counts the snapshots in the node's store whose index is
// above index (hashicorp/raft names them term-index-millis).
func snapshotsAbove(t *testing.T, dataDir string, index uint64) int {
	t.Helper()
	ents, _ := os.ReadDir(filepath.Join(dataDir, "snapshots", "snapshots"))
	count := 0
	for _, e := range ents {
		var term, idx, ms uint64
		if _, err := fmt.Sscanf(e.Name(), "%d-%d-%d", &term, &idx, &ms); err == nil && !strings.HasSuffix(e.Name(), ".tmp") && idx > index {
			count++
		}
	}
	return count
}
