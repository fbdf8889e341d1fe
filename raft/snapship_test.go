package raft

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/accrual/accrual/ledger"
	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
)

// TestShippingStoreSendsTheSectionUnlessRestoring: hraft opens a snapshot
// to send it or to restore it. Every open is a send (the ledger section is
// added), whatever the node's role at that moment, except the restores:
// before the node's Raft exists, and the first open after an install,
// whose file keeps the leader's section and is marked (installMark).
func TestShippingStoreSendsTheSectionUnlessRestoring(t *testing.T) {
	dir := t.TempDir()
	led, err := ledger.Open(filepath.Join(dir, "ledger"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	files, err := hraft.NewFileSnapshotStoreWithLogger(dir, 2, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	started := false
	s := &shippingStore{FileSnapshotStore: files, dir: dir, led: led, started: func() bool { return started }}
	state := []byte("engine state")
	write := func(index uint64, local bool) string {
		sink, err := s.Create(1, index, 1, hraft.Configuration{}, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if local {
			s.markLocal(sink.ID())
		}
		if _, err := sink.Write(state); err != nil {
			t.Fatal(err)
		}
		if err := sink.Close(); err != nil {
			t.Fatal(err)
		}
		return sink.ID()
	}
	opened := func(id string) int64 {
		meta, rc, err := s.Open(id)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		n, err := io.Copy(io.Discard, rc)
		if err != nil || n != meta.Size {
			t.Fatalf("open %s: read %d bytes (%v), meta says %d", id, n, err, meta.Size)
		}
		return n
	}
	marked := func(id string) bool {
		_, err := os.Stat(filepath.Join(dir, "snapshots", id, installMark))
		return err == nil
	}
	plain := int64(len(state))

	local := write(5, true)
	if marked(local) {
		t.Fatal("a snapshot of the node's own state is marked as installed")
	}
	if got := opened(local); got != plain {
		t.Fatalf("open at start (the restore inside NewRaft): %d bytes, want the stored %d", got, plain)
	}
	started = true
	if got := opened(local); got <= plain {
		t.Fatalf("open once started (a send): %d bytes, want the stored %d and the ledger section", got, plain)
	}
	installed := write(7, false)
	if !marked(installed) {
		t.Fatal("an installed snapshot is not marked")
	}
	if got := opened(installed); got != plain {
		t.Fatalf("first open after an install (its restore): %d bytes, want the stored %d", got, plain)
	}
	if got := opened(installed); got <= plain {
		t.Fatalf("a later open of an installed snapshot (a send): %d bytes, want the ledger section too", got)
	}
}
