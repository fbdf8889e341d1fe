package raft

// Seeding a data directory offline. `accrual import` applies a history
// with its own times (no leader tick moves the clock), and `accrual
// restore` unpacks a backup; both end with a node's data directory that
// holds the state at some index: the ledger (entries, position, command
// records) in DIR/ledger, and a Raft snapshot of the engine at that index
// whose configuration is one voter, the node that will serve it. The
// snapshot carries the program in force inside the engine's stream, so the
// program of record reaches joiners with the snapshot the leader sends
// them, as it does after a log compaction (genesis.go). The Raft log stays
// empty: hraft restores the snapshot on start-up, and bootstrap sees
// existing state and does nothing.

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
	"github.com/accrual/accrual/raft/logstore"
	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
)

// SeedNode is the node a seeded data directory is for: the one voter of
// its configuration. Serve it with the same --node-id and --raft-addr.
type SeedNode struct {
	ID       string
	RaftAddr string
}

// seedTerm is the term of a seeded snapshot: the first election's.
const seedTerm = 1

// ErrDataDirInUse: the directory to seed already holds Raft state.
var ErrDataDirInUse = errors.New("raft: the data directory already holds Raft state; seed an empty one")

// SeedDataDir writes the Raft snapshot of eng at index into dataDir, with a
// one-voter configuration of self and a new cluster id. led is the open
// ledger of dataDir (DataDir/ledger) that eng's command records and
// entries were written to, at a position <= index; eng is not used after.
func SeedDataDir(dataDir string, self SeedNode, led *ledger.Ledger, eng *engine.Engine, index uint64) error {
	if index == 0 || led.Position() > index {
		return fmt.Errorf("raft: seed at index %d: must be at least 1 and the ledger's position %d", index, led.Position())
	}
	snaps, err := seedStores(dataDir)
	if err != nil {
		return err
	}
	f := newFSM(eng.Program(), led, hclog.NewNullLogger(), func() bool { return false }, 0)
	defer f.close()
	f.mu.Lock()
	f.eng = eng
	f.step.SetEngine(eng)
	f.mu.Unlock()
	f.applied.Store(index)
	return seedFrom(dataDir, f, snaps, self)
}

// seedFrom writes f's state at its applied index as dataDir's snapshot,
// then gives the directory a new cluster id: a seeded node starts a new
// cluster, never one whose nodes hold other state.
func seedFrom(dataDir string, f *fsm, snaps *hraft.FileSnapshotStore, self SeedNode) error {
	f.spoolDir = filepath.Join(dataDir, "snapshots")
	if err := persistSeed(f, snaps, self, f.applied.Load()); err != nil {
		return err
	}
	ids, err := loadClusterID(dataDir, self.ID, hclog.NewNullLogger())
	if err != nil {
		return err
	}
	return ids.generate()
}

// seedStores makes the directories and opens the snapshot store, refusing
// a directory with Raft state.
func seedStores(dataDir string) (*hraft.FileSnapshotStore, error) {
	dirs, err := makeDirs(dataDir)
	if err != nil {
		return nil, err
	}
	logs, err := logstore.Open(dirs.raft)
	if err != nil {
		return nil, err
	}
	snaps, err := hraft.NewFileSnapshotStoreWithLogger(dirs.snapshots, 1, hclog.NewNullLogger())
	if err == nil {
		var has bool
		has, err = hraft.HasExistingState(logs, logs, snaps)
		if err == nil && has {
			err = ErrDataDirInUse
		}
	}
	if cerr := logs.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return snaps, nil
}

// persistSeed writes f's snapshot (fsm.go's format, engine only) at index.
func persistSeed(f *fsm, snaps *hraft.FileSnapshotStore, self SeedNode, index uint64) error {
	snap, err := f.Snapshot()
	if err != nil {
		return err
	}
	defer snap.Release()
	// The transport only encodes peers for old snapshot versions.
	_, trans := hraft.NewInmemTransport(hraft.ServerAddress(self.RaftAddr))
	defer trans.Close()
	conf := hraft.Configuration{Servers: []hraft.Server{{Suffrage: hraft.Voter, ID: hraft.ServerID(self.ID), Address: hraft.ServerAddress(self.RaftAddr)}}}
	sink, err := snaps.Create(hraft.SnapshotVersionMax, index, seedTerm, conf, index, trans)
	if err != nil {
		return err
	}
	if err := snap.Persist(sink); err != nil {
		return fmt.Errorf("raft: write the seeded snapshot: %w", err)
	}
	return nil
}
