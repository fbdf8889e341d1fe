package raft

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/accrual/accrual/ledger"
	"github.com/hashicorp/go-hclog"
)

// TestSnapshotWithoutLedgerEntriesOverALedgerBehindStopsTheNode: a
// snapshot that arrives without its ledger section (a leader that lost
// leadership as it opened it) over a ledger behind its index leaves this
// node without the entries and command records in between; it must not
// apply or take commands from that state (a retry would be applied anew).
func TestSnapshotWithoutLedgerEntriesOverALedgerBehindStopsTheNode(t *testing.T) {
	p := loadProgram(t, "club")
	newNodeFSM := func() *fsm {
		led, err := ledger.Open(filepath.Join(t.TempDir(), "ledger"), ledger.Options{})
		if err != nil {
			t.Fatal(err)
		}
		f := newFSM(p, led, hclog.NewNullLogger(), func() bool { return false }, 1)
		f.spoolDir = t.TempDir()
		t.Cleanup(func() { f.close(); led.Close() })
		return f
	}
	leader, follower := newNodeFSM(), newNodeFSM()
	for i := 1; i <= 3; i++ {
		applyEntry(t, leader, uint64(i), purchases(t, p, "a", i, 1))
		leader.lw.drain()
	}
	applyEntry(t, follower, 1, purchases(t, p, "a", 1, 1))
	follower.lw.drain()
	snap, err := leader.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := newFileSink(t)
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	engineOnly, err := os.Open(sink.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := follower.Restore(engineOnly); err == nil {
		t.Fatal("a snapshot at 3 without ledger entries was installed over a ledger at 1")
	}
	if follower.fatal.Load() == nil {
		t.Fatal("the node goes on applying after installing a state its ledger does not cover")
	}
}
