package raft

import (
	"os"
	"testing"
)

// TestSnapshotWithoutLedgerEntriesOverALedgerBehindStopsTheNode: a
// snapshot that arrives without its ledger section (no shippingStore sends
// one; this guards the state if one comes) over a ledger behind its index leaves this
// node without the entries and command records in between; it must not
// apply or take commands from that state (a retry would be applied anew).
func TestSnapshotWithoutLedgerEntriesOverALedgerBehindStopsTheNode(t *testing.T) {
	p := loadProgram(t, "club")
	leader, follower := newBareFSM(t, p), newBareFSM(t, p)
	leader.spoolDir = t.TempDir()
	for i := 1; i <= 3; i++ {
		applyEntry(t, leader, uint64(i), purchases(t, p, "a", i, 1))
		leader.lw.drain()
	}
	applyEntry(t, follower, 1, purchases(t, p, "a", 1, 1))
	follower.lw.drain()
	engineOnly, err := os.Open(persistedSnapshot(t, leader))
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
