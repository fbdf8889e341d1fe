package raft

// Slow disk, for chaos tests: with faults on (faults.go), the rule
// disk_delay_ms adds that latency before every durable write of the Raft
// log and stable store (StoreLog(s), DeleteRange, Set, SetUint64: each is
// one fsync in logstore) and before a snapshot is committed (sink Close,
// which fsyncs). Reads are not delayed: a slow fsync, not a slow cache, is
// what stalls a Raft node. The ledger is not delayed either: it is written
// NoSync behind the apply path (ledgerwriter.go), so disk latency reaches
// it only as a slower background writer. With faults off the node uses the
// plain stores: no wrapper, no cost.

import (
	hraft "github.com/hashicorp/raft"
)

// raftStore is what hraft needs of the Raft log directory.
type raftStore interface {
	hraft.LogStore
	hraft.StableStore
}

// slowStore delays the durable writes of a raftStore by the current
// disk_delay_ms rule.
type slowStore struct {
	raftStore
	w *faultWatch
}

// diskWait sleeps for the current disk delay, if any.
func (w *faultWatch) diskWait() {
	if d := w.rules.Load().diskDelay(); d > 0 {
		w.sleep(d)
	}
}

func (s slowStore) StoreLog(l *hraft.Log) error {
	s.w.diskWait()
	return s.raftStore.StoreLog(l)
}

func (s slowStore) StoreLogs(logs []*hraft.Log) error {
	s.w.diskWait()
	return s.raftStore.StoreLogs(logs)
}

func (s slowStore) DeleteRange(minIndex, maxIndex uint64) error {
	s.w.diskWait()
	return s.raftStore.DeleteRange(minIndex, maxIndex)
}

func (s slowStore) Set(key, val []byte) error {
	s.w.diskWait()
	return s.raftStore.Set(key, val)
}

func (s slowStore) SetUint64(key []byte, val uint64) error {
	s.w.diskWait()
	return s.raftStore.SetUint64(key, val)
}

// slowSnapshots delays the commit (Close) of every snapshot it creates.
type slowSnapshots struct {
	hraft.SnapshotStore
	w *faultWatch
}

func (s slowSnapshots) Create(version hraft.SnapshotVersion, index, term uint64, configuration hraft.Configuration,
	configurationIndex uint64, trans hraft.Transport) (hraft.SnapshotSink, error) {
	sink, err := s.SnapshotStore.Create(version, index, term, configuration, configurationIndex, trans)
	if err != nil {
		return nil, err
	}
	return slowSink{SnapshotSink: sink, w: s.w}, nil
}

type slowSink struct {
	hraft.SnapshotSink
	w *faultWatch
}

func (s slowSink) Close() error {
	s.w.diskWait()
	return s.SnapshotSink.Close()
}

// withSlowDisk wraps the stores when faults are on (w != nil).
func withSlowDisk(w *faultWatch, logs raftStore, snaps hraft.SnapshotStore) (raftStore, hraft.SnapshotStore) {
	if w == nil {
		return logs, snaps
	}
	return slowStore{raftStore: logs, w: w}, slowSnapshots{SnapshotStore: snaps, w: w}
}
