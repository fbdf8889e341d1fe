package faultinject

// The applied-log journal, for chaos checks: every log the state machine
// applies is appended, in apply order, to DATA/applied.journal, and every
// snapshot restore starts a new segment there (the journal is the node's
// raft.LogObserver). After a run the journals of all nodes together hold
// every committed log in order, even though each node's Raft log was
// compacted and some nodes skipped ranges by snapshot installs;
// ReplayJournals (replay.go) applies them to a fresh state machine,
// offline, so a checker can compare the replicas' state with a replay of
// the committed commands in log order (and checks on the way that nodes
// applied the same bytes at the same index).
//
// Records: 'S' uvarint index — a segment starts after the state at index
// (0: the empty state; else a restored snapshot); 'E' uvarint index,
// uvarint term, type byte, uvarint len, data — an applied log. A node
// claims every log in (segment start, last entry of the segment]: within a
// segment it journals every log it applies, before the apply returns. A
// record torn by a kill ends the file.

import (
	"encoding/binary"
	"os"

	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"

	"github.com/accrual/accrual/raft"
)

// JournalName is the journal's file name in a node's data directory.
const JournalName = "applied.journal"

type journal struct {
	f   *os.File
	buf []byte
	log hclog.Logger
}

var _ raft.LogObserver = (*journal)(nil)

func openJournal(path string, log hclog.Logger) (*journal, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	j := &journal{f: f, log: log}
	// Until a snapshot restore says otherwise, the state machine starts
	// empty.
	if err := j.segment(0); err != nil {
		f.Close()
		return nil, err
	}
	return j, nil
}

// AppliedLogs journals an applied batch (raft.LogObserver).
func (j *journal) AppliedLogs(ls []*hraft.Log) {
	if err := j.logs(ls); err != nil {
		j.log.Error("journal write failed", "err", err)
	}
}

// Restored starts a segment at a restored snapshot (raft.LogObserver).
func (j *journal) Restored(index uint64) {
	if err := j.segment(index); err != nil {
		j.log.Error("journal write failed", "err", err)
	}
}

// segment records that the state is now the one at index.
func (j *journal) segment(index uint64) error {
	j.buf = binary.AppendUvarint(append(j.buf[:0], 'S'), index)
	_, err := j.f.Write(j.buf)
	return err
}

// logs records applied logs with one write: a kill -9 after it loses
// nothing (the page cache outlives the process), one during it tears at
// most the last record.
func (j *journal) logs(ls []*hraft.Log) error {
	j.buf = j.buf[:0]
	for _, l := range ls {
		j.buf = append(j.buf, 'E')
		j.buf = binary.AppendUvarint(j.buf, l.Index)
		j.buf = binary.AppendUvarint(j.buf, l.Term)
		j.buf = append(j.buf, byte(l.Type))
		j.buf = binary.AppendUvarint(j.buf, uint64(len(l.Data)))
		j.buf = append(j.buf, l.Data...)
	}
	_, err := j.f.Write(j.buf)
	return err
}

func (j *journal) close() error { return j.f.Close() }
