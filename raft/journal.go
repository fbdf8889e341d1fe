package raft

// The applied-log journal, for chaos checks only (on when fault injection
// is, see faults.go): every log the FSM applies is appended, in apply
// order, to DATA/applied.journal, and every snapshot restore starts a new
// segment there. After a run the journals of all nodes together hold every
// committed log in order, even though each node's Raft log was compacted
// and some nodes skipped ranges by snapshot installs; ReplayJournals
// applies them to a fresh state machine, offline, so a checker can compare
// the replicas' state with a replay of the committed commands in log
// order (and checks on the way that nodes applied the same bytes at the
// same index).
//
// Records: 'S' uvarint index — a segment starts after the state at index
// (0: the empty state; else a restored snapshot); 'E' uvarint index,
// uvarint term, type byte, uvarint len, data — an applied log. A node
// claims every log in (segment start, last entry of the segment]: within a
// segment it journals every log it applies, before the apply returns. A
// record torn by a kill ends the file.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
)

// JournalName is the journal's file name in a node's data directory.
const JournalName = "applied.journal"

const maxJournalData = 64 << 20

type journal struct {
	f   *os.File
	buf []byte
}

func openJournal(path string) (*journal, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	j := &journal{f: f}
	// Until a snapshot restore says otherwise, the FSM starts empty.
	return j, j.segment(0)
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

// journalSegment is one segment of one node's journal.
type journalSegment struct {
	node  string
	start uint64 // the state the segment starts from
	logs  []*hraft.Log
}

func (s *journalSegment) end() uint64 {
	if len(s.logs) == 0 {
		return s.start
	}
	return s.logs[len(s.logs)-1].Index
}

func readJournal(path string) ([]*journalSegment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	node := filepath.Base(filepath.Dir(path))
	var segs []*journalSegment
	for {
		kind, err := br.ReadByte()
		if err == io.EOF {
			return segs, nil
		}
		if err != nil {
			return nil, err
		}
		switch kind {
		case 'S':
			idx, err := binary.ReadUvarint(br)
			if err != nil {
				return segs, nil // torn
			}
			segs = append(segs, &journalSegment{node: node, start: idx})
		case 'E':
			l, ok := readJournalLog(br)
			if !ok {
				return segs, nil // torn
			}
			if len(segs) == 0 || l.Index <= segs[len(segs)-1].end() {
				return nil, fmt.Errorf("%s: log %d out of order", path, l.Index)
			}
			s := segs[len(segs)-1]
			s.logs = append(s.logs, l)
		default:
			return nil, fmt.Errorf("%s: bad record kind %#x", path, kind)
		}
	}
}

func readJournalLog(br *bufio.Reader) (*hraft.Log, bool) {
	idx, err1 := binary.ReadUvarint(br)
	term, err2 := binary.ReadUvarint(br)
	typ, err3 := br.ReadByte()
	n, err4 := binary.ReadUvarint(br)
	if errors.Join(err1, err2, err3, err4) != nil || n > maxJournalData {
		return nil, false
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(br, data); err != nil {
		return nil, false
	}
	return &hraft.Log{Index: idx, Term: term, Type: hraft.LogType(typ), Data: data}, true
}

// JournalReplay is what ReplayJournals found.
type JournalReplay struct {
	Logs      int    // logs applied
	Index     uint64 // the state hashed is the one right after this index
	StateHash uint64
	Compared  int // logs present in more than one journal, all identical
}

// ReplayJournals merges the journals (one per node) into the committed
// log up to index upTo, checks that every log present in several journals
// is the same, applies the logs to a fresh state machine with prog, and
// returns its state hash right after upTo (comparable with
// Node.StateHashAt). It fails when no journal covers some part of
// (0, upTo]. ledgerDir receives the replay's ledger.
func ReplayJournals(paths []string, prog *engine.Program, upTo uint64, ledgerDir string) (JournalReplay, error) {
	var r JournalReplay
	var segs []*journalSegment
	for _, p := range paths {
		s, err := readJournal(p)
		if err != nil {
			return r, err
		}
		segs = append(segs, s...)
	}
	// Walk forward from the empty state: at each point, take the logs of
	// the segments that cover it, compare them where they overlap.
	byIndex := map[uint64]*hraft.Log{}
	covered := uint64(0)
	sort.Slice(segs, func(i, j int) bool { return segs[i].start < segs[j].start })
	for _, s := range segs {
		if s.start > covered {
			break // a hole: nothing before s.start's state is known past covered
		}
		for _, l := range s.logs {
			if l.Index > upTo {
				break
			}
			if prev, ok := byIndex[l.Index]; ok {
				if prev.Term != l.Term || prev.Type != l.Type || string(prev.Data) != string(l.Data) {
					return r, fmt.Errorf("raft journal: log %d differs between nodes (%s has term %d, another term %d)", l.Index, s.node, l.Term, prev.Term)
				}
				r.Compared++
				continue
			}
			byIndex[l.Index] = l
		}
		covered = max(covered, min(s.end(), upTo))
	}
	if covered < upTo {
		return r, fmt.Errorf("raft journal: the journals cover the log up to %d only, not %d", covered, upTo)
	}
	idx := make([]uint64, 0, len(byIndex))
	for i := range byIndex {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(i, j int) bool { return idx[i] < idx[j] })

	led, err := ledger.Open(ledgerDir, ledger.Options{})
	if err != nil {
		return r, err
	}
	defer led.Close()
	f := newFSM(prog, led, hclog.NewNullLogger(), func() bool { return false })
	defer f.lw.close()
	const chunk = 64
	logs := make([]*hraft.Log, 0, chunk)
	for k, i := range idx {
		logs = append(logs, byIndex[i])
		if len(logs) == chunk || k == len(idx)-1 {
			f.ApplyBatch(logs)
			logs = logs[:0]
		}
		if e := f.fatal.Load(); e != nil {
			return r, *e
		}
	}
	r.Logs, r.Index, r.StateHash = len(idx), upTo, f.stateHash()
	return r, nil
}
