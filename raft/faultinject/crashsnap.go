package faultinject

// The snapshot-receive crash point (raft/crashpoint). The other points are
// one-line hooks in package raft and logstore; this one falls inside
// hraft, which writes a received snapshot to the store itself, so it sits
// in a wrapper of the snapshot store, installed through raft.Seams only
// when a point is armed.

import (
	"errors"
	"io"

	"github.com/accrual/accrual/raft/crashpoint"
	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
)

// receiveCrashBytes is how much of an InstallSnapshot's stream a follower
// writes to its snapshot store before the snapshot-receive crash point.
const receiveCrashBytes = 16 << 10

// armSnapshots wraps snaps in a crashSnapshotStore when a crash point is
// armed (then logged, loudly).
func armSnapshots(snaps hraft.SnapshotStore, log hclog.Logger) hraft.SnapshotStore {
	if !crashpoint.Armed() {
		return snaps
	}
	p, hits := crashpoint.Target()
	log.Warn("crash point armed: SIGKILL at its hit", "point", p.String(), "hit", hits)
	return crashSnapshotStore{snaps}
}

// crashSnapshotStore carries the snapshot-receive crash point. hraft
// writes a received snapshot with io.Copy, which uses the sink's ReadFrom,
// while Persist writes through Write: only the install path reaches the
// point.
type crashSnapshotStore struct{ hraft.SnapshotStore }

func (s crashSnapshotStore) Create(version hraft.SnapshotVersion, index, term uint64, configuration hraft.Configuration,
	configurationIndex uint64, trans hraft.Transport) (hraft.SnapshotSink, error) {
	sink, err := s.SnapshotStore.Create(version, index, term, configuration, configurationIndex, trans)
	if err != nil {
		return nil, err
	}
	return crashSink{sink}, nil
}

type crashSink struct{ hraft.SnapshotSink }

// ReadFrom copies the first receiveCrashBytes, reaches the crash point (the
// sink is not closed: hraft keeps it as a .tmp directory), then the rest.
func (s crashSink) ReadFrom(r io.Reader) (int64, error) {
	n, err := io.CopyN(s.SnapshotSink, r, receiveCrashBytes)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, err
	}
	crashpoint.At(crashpoint.SnapshotReceive)
	if err != nil {
		return n, nil
	}
	m, err := io.Copy(s.SnapshotSink, r)
	return n + m, err
}
