package faultinject

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accrual/accrual/raft"
	"github.com/accrual/accrual/raft/logstore"
)

// stoppedNode runs a one-node cluster through a few snapshots, stops it and
// returns its config and state hash.
func stoppedNode(t *testing.T, trailingLogs uint64, retain int) (raft.Config, uint64) {
	t.Helper()
	p := loadProgram(t, "club")
	cfg := testConfig(t, "n1", p, true)
	cfg.SnapshotThreshold, cfg.TrailingLogs, cfg.SnapshotInterval = 4, trailingLogs, 50*time.Millisecond
	cfg.SnapshotRetain = retain
	n := startNode(t, cfg)
	waitLeader(t, n)
	for i := range 40 { // the WALs grow past 80 KiB (Corrupt needs 3 blocks)
		if _, err := n.Submit(context.Background(), purchases(t, p, "a", i*100, 100)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond) // let snapshots be taken between entries
	}
	if _, err := n.CurrentLedger(context.Background()); err != nil {
		t.Fatal(err)
	}
	hash := n.StateHash()
	n.close()
	return cfg, hash
}

// copyDataDir gives cfg a copy of its data directory, to damage.
func copyDataDir(t *testing.T, cfg raft.Config) raft.Config {
	t.Helper()
	c := cfg
	c.DataDir = filepath.Join(t.TempDir(), "n1")
	if err := os.CopyFS(c.DataDir, os.DirFS(cfg.DataDir)); err != nil {
		t.Fatal(err)
	}
	return c
}

// wantRefusal checks that Open refused to start on the damaged file, with
// an error that names it (or, for a WAL, whose replay Pebble reports
// without its name, the store's directory) and says what to do.
func wantRefusal(t *testing.T, err error, path, remedy string) {
	t.Helper()
	var ce *raft.CorruptDataError
	if !errors.As(err, &ce) || !errors.Is(err, raft.ErrCorruptData) {
		t.Fatalf("Open after damaging %s: %v; want a CorruptDataError", path, err)
	}
	if ce.File != path && !(strings.HasSuffix(path, ".log") && ce.File == filepath.Dir(path)) ||
		!strings.Contains(err.Error(), ce.File) || !strings.Contains(err.Error(), remedy) {
		t.Fatalf("Open after damaging %s: %v; want the file named and %q", path, err, remedy)
	}
}

// Rule: a node refuses to start on a damaged Raft log or ledger (table or
// WAL) or a snapshot it cannot do without, naming the file and how to
// rejoin.
func TestDamagedFileStopsTheNodeNamingIt(t *testing.T) {
	cfg, _ := stoppedNode(t, 2, 1) // a short log: the snapshot is needed
	for _, kind := range []FileKind{RaftLogTable, RaftLogWAL, LedgerTable, LedgerWAL, Snapshot} {
		t.Run(string(kind), func(t *testing.T) {
			c := copyDataDir(t, cfg)
			path, err := Corrupt(c.DataDir, kind)
			if err != nil {
				t.Fatal(err)
			}
			n, err := raft.Open(c)
			if err == nil {
				n.Close()
			}
			wantRefusal(t, err, path, "accrual cluster remove --id n1")
		})
	}
}

// Rule: a damaged snapshot that the node can do without (an older one, or
// none, and the log after it make the whole history) is set aside; the
// node starts with the same state.
func TestDamagedSnapshotIsSetAsideWhenTheLogCoversIt(t *testing.T) {
	cfg, hash := stoppedNode(t, 100000, 2) // the whole log is kept
	c := copyDataDir(t, cfg)
	path, err := Corrupt(c.DataDir, Snapshot)
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, c)
	defer n.close()
	waitLeader(t, n)
	waitFor(t, "the same state", 10*time.Second, func() bool { return n.StateHash() == hash })
	aside := filepath.Join(c.DataDir, "snapshots-damaged", filepath.Base(filepath.Dir(path)), "state.bin")
	if _, err := os.Stat(aside); err != nil {
		t.Fatalf("the damaged snapshot was not set aside to %s: %v", aside, err)
	}
}

// Rule: a damaged member record (DATA/cluster-members) stops the node,
// naming the file; the leader's too.
func TestDamagedMemberRecordStopsTheNode(t *testing.T) {
	p := loadProgram(t, "club")
	nodes := startCluster(t, p, 3, func(*raft.Config) {})
	defer closeAll(nodes)
	l := waitLeader(t, nodes...)
	members := filepath.Join(l.cfg.DataDir, raft.MembersName)
	waitFor(t, "the leader's member record", 10*time.Second, func() bool {
		b, _ := os.ReadFile(members)
		return strings.Count(string(b), "\n") >= 3 // two peers and the crc32c line
	})
	l.close()
	path, err := Corrupt(l.cfg.DataDir, Members)
	if err != nil {
		t.Fatal(err)
	}
	n, err := raft.Open(l.cfg)
	if err == nil {
		n.Close()
	}
	wantRefusal(t, err, path, "delete it")
	for i := range nodes {
		if nodes[i] == l {
			nodes[i] = nil
		}
	}
}

// Rule: a damaged newest snapshot whose range the log does not hold whole
// (a follower that installed it kept the entries it had below it: a gap
// after the older snapshot) stops the node naming the snapshot, instead of
// Raft starting from the older one and panicking on the missing entry.
func TestDamagedSnapshotOverALogGapStopsTheNode(t *testing.T) {
	cfg, _ := stoppedNode(t, 100000, 2) // the whole log is kept
	c := copyDataDir(t, cfg)
	ents, err := os.ReadDir(filepath.Join(c.DataDir, "snapshots", "snapshots"))
	if err != nil || len(ents) < 2 {
		t.Fatalf("want two snapshots: %v (%d)", err, len(ents))
	}
	var indexes []uint64
	for _, e := range ents {
		parts := strings.Split(e.Name(), "-")
		idx, err := strconv.ParseUint(parts[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		indexes = append(indexes, idx)
	}
	slices.Sort(indexes)
	older, newest := indexes[len(indexes)-2], indexes[len(indexes)-1]
	if newest <= older+1 {
		t.Fatalf("snapshots at %d and %d leave no entry between them", older, newest)
	}
	logs, err := logstore.Open(filepath.Join(c.DataDir, "raft"))
	if err != nil {
		t.Fatal(err)
	}
	if err := logs.DeleteRange(older+1, older+1); err != nil {
		t.Fatal(err)
	}
	logs.Close()
	path, err := Corrupt(c.DataDir, Snapshot)
	if err != nil {
		t.Fatal(err)
	}
	n, err := raft.Open(c)
	if err == nil {
		n.Close()
	}
	wantRefusal(t, err, path, "accrual cluster remove --id n1")
}
