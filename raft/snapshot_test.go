package raft

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestSnapshotStreamsTheStateToASpoolFile: Snapshot writes the state to a
// file in the spool directory instead of a copy in memory (a node's peak
// while snapshotting stays near its steady state), Persist writes it into
// the sink, Release removes the file, and the persisted snapshot restores
// the same state.
func TestSnapshotStreamsTheStateToASpoolFile(t *testing.T) {
	p := loadProgram(t, "coalition")
	f := newBareFSM(t, p)
	f.spoolDir = t.TempDir()
	fillMembers(t, f, p, 30000)
	f.lw.drain()

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	snap, err := f.Snapshot()
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	spools, _ := filepath.Glob(filepath.Join(f.spoolDir, spoolPattern))
	if len(spools) != 1 {
		t.Fatalf("after Snapshot: %d spool files in the spool directory, want 1", len(spools))
	}
	st, err := os.Stat(spools[0])
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(st.Size())/4 {
		t.Fatalf("Snapshot allocated %d bytes for a state of %d bytes: it must stream the state to the spool file, not hold it", alloc, st.Size())
	}

	sink := newFileSink(t)
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	if spools, _ := filepath.Glob(filepath.Join(f.spoolDir, spoolPattern)); len(spools) != 0 {
		t.Fatalf("after Release: spool files left: %v", spools)
	}
	g := newBareFSM(t, p)
	if err := g.Restore(withLedgerSection(t, sink.Name(), f.led, f.applied.Load())); err != nil {
		t.Fatal(err)
	}
	if got, want := engineHash(g.eng), engineHash(f.eng); got != want || g.applied.Load() != f.applied.Load() {
		t.Fatalf("restored state hash %x at %d, want %x at %d", got, g.applied.Load(), want, f.applied.Load())
	}
}

// TestRestoreOverAStateGivesTheSnapshotsState: a follower installing a
// snapshot drops its own state first (so it never holds two); what it ends
// with is the snapshot's state, the same as a fresh node restoring it, and
// a snapshot that fails to decode after the drop leaves the node refusing
// to go on (fatal) rather than serving the empty placeholder.
func TestRestoreOverAStateGivesTheSnapshotsState(t *testing.T) {
	p := loadProgram(t, "coalition")
	leader := newBareFSM(t, p)
	leader.spoolDir = t.TempDir()
	fillMembers(t, leader, p, 9000)
	leader.lw.drain()
	snapPath := persistedSnapshot(t, leader)

	follower := newBareFSM(t, p)
	applyEntry(t, follower, 1, purchases(t, p, "m", 0, 4096)) // the leader's first log
	follower.lw.drain()
	if err := follower.Restore(withLedgerSection(t, snapPath, leader.led, leader.applied.Load())); err != nil {
		t.Fatal(err)
	}
	if got, want := engineHash(follower.eng), engineHash(leader.eng); got != want {
		t.Fatalf("follower's state hash %x after the install, want the leader's %x", got, want)
	}
	if follower.fatal.Load() != nil {
		t.Fatalf("a good install left the follower fatal: %v", *follower.fatal.Load())
	}

	data, err := os.ReadFile(snapPath)
	if err != nil {
		t.Fatal(err)
	}
	torn := filepath.Join(t.TempDir(), "torn")
	if err := os.WriteFile(torn, data[:len(data)*2/3], 0o600); err != nil {
		t.Fatal(err)
	}
	rc, err := os.Open(torn)
	if err != nil {
		t.Fatal(err)
	}
	if err := follower.Restore(rc); err == nil {
		t.Fatal("a torn snapshot restored without error")
	}
	if follower.fatal.Load() == nil {
		t.Fatal("a failed install over a dropped state left the follower able to apply")
	}
}

// TestStartRemovesSpoolsACrashLeft: a kill while a snapshot is spooled
// (crash point snapshot-write) leaves its spool file; the next start
// removes it with the interrupted sends' files, and nothing else.
func TestStartRemovesSpoolsACrashLeft(t *testing.T) {
	dir := t.TempDir()
	names := map[string]bool{ // name → kept
		"state-123.tmp":          false,
		"ledger-section-456.tmp": false,
		"state-keep.zst":         true,
	}
	for name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	(&shippingStore{dir: dir}).removeStale()
	for name, kept := range names {
		_, err := os.Stat(filepath.Join(dir, name))
		if exists := err == nil; exists != kept {
			t.Errorf("%s: exists %v after removeStale, want %v", name, exists, kept)
		}
	}
}
