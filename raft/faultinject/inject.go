package faultinject

import (
	"os"
	"path/filepath"

	"github.com/accrual/accrual/raft"
	"github.com/accrual/accrual/raft/crashpoint"
	hraft "github.com/hashicorp/raft"
)

// EnvVar turns fault injection on in `accrual serve` when set to "1".
const EnvVar = "ACCRUAL_FAULTS"

// RulesName is the control file's name in a node's data directory, under
// ACCRUAL_FAULTS=1.
const RulesName = "faults.json"

// Injector is the fault injection of one node: the watch of its control
// file and its journal. Close it after the node.
type Injector struct {
	w *watch
	j *journal
}

// FromEnv installs fault injection into cfg when the environment asks for
// it (ACCRUAL_FAULTS=1: the control file is DATA/faults.json), and nil
// otherwise. It refuses a malformed ACCRUAL_CRASH_AT, or one set without
// ACCRUAL_FAULTS=1, so a test cannot believe a point armed that is not.
func FromEnv(cfg *raft.Config) (*Injector, error) {
	if err := crashpoint.Err(); err != nil {
		return nil, err
	}
	if os.Getenv(EnvVar) != "1" {
		return nil, nil
	}
	return Install(cfg, filepath.Join(cfg.DataDir, RulesName))
}

// Install sets cfg's seams for fault injection controlled by rulesFile,
// journalling applied logs to DATA/applied.journal, with the
// snapshot-receive crash point when one is armed. It creates cfg.DataDir
// if needed, and gives cfg the default logger if it has none, so the node
// and its faults log to the same place.
func Install(cfg *raft.Config, rulesFile string) (*Injector, error) {
	if cfg.Logger == nil {
		cfg.Logger = raft.DefaultLogger()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	root, log := cfg.Logger, cfg.Logger.Named("faults")
	j, err := openJournal(filepath.Join(cfg.DataDir, JournalName), log)
	if err != nil {
		return nil, err
	}
	w := newWatch(rulesFile, log)
	w.start()
	cfg.Seams = raft.Seams{
		Stream:    w.wrapStream,
		RaftStore: w.slowRaftStore,
		Snapshots: func(s hraft.SnapshotStore) hraft.SnapshotStore {
			return armSnapshots(slowSnapshots{SnapshotStore: s, w: w}, root)
		},
		Logs:  j,
		Clock: w.now,
	}
	return &Injector{w: w, j: j}, nil
}

// Close stops the watch and closes the journal; nil is a no-op (FromEnv
// with faults off).
func (i *Injector) Close() error {
	if i == nil {
		return nil
	}
	i.w.close()
	return i.j.close()
}
