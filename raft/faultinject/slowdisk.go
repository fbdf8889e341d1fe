package faultinject

// Slow disk: the rule disk_delay_ms adds that latency before every durable
// write of the Raft log and stable store (StoreLog(s), DeleteRange, Set,
// SetUint64: each is one fsync in logstore) and before a snapshot is
// committed (sink Close, which fsyncs). Reads are not delayed: a slow
// fsync, not a slow cache, is what stalls a Raft node. The ledger is not
// delayed either: it is written NoSync behind the apply path
// (raft/ledgerwriter.go), so disk latency reaches it only as a slower
// background writer.

import (
	"github.com/accrual/accrual/raft"
	hraft "github.com/hashicorp/raft"
)

// slowStore delays the durable writes of a raft.RaftStore by the current
// disk_delay_ms rule.
type slowStore struct {
	raft.RaftStore
	w *watch
}

// slowRaftStore is the seam raft.Seams.RaftStore.
func (w *watch) slowRaftStore(s raft.RaftStore) raft.RaftStore { return slowStore{RaftStore: s, w: w} }

func (s slowStore) StoreLog(l *hraft.Log) error {
	s.w.diskWait()
	return s.RaftStore.StoreLog(l)
}

func (s slowStore) StoreLogs(logs []*hraft.Log) error {
	s.w.diskWait()
	return s.RaftStore.StoreLogs(logs)
}

func (s slowStore) DeleteRange(minIndex, maxIndex uint64) error {
	s.w.diskWait()
	return s.RaftStore.DeleteRange(minIndex, maxIndex)
}

func (s slowStore) Set(key, val []byte) error {
	s.w.diskWait()
	return s.RaftStore.Set(key, val)
}

func (s slowStore) SetUint64(key []byte, val uint64) error {
	s.w.diskWait()
	return s.RaftStore.SetUint64(key, val)
}

// slowSnapshots delays the commit (Close) of every snapshot it creates.
type slowSnapshots struct {
	hraft.SnapshotStore
	w *watch
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
	w *watch
}

func (s slowSink) Close() error {
	s.w.diskWait()
	return s.SnapshotSink.Close()
}
