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

// journalSegment is one segment of one node's journal: where its records
// start in the file and the logs it claims, (start, end].
type journalSegment struct {
	node, path string
	start, end uint64
	offset     int64 // of the segment's first log record
}

// scanJournal lists a journal's segments without keeping any log.
func scanJournal(path string) ([]journalSegment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	node := filepath.Base(filepath.Dir(path))
	var segs []journalSegment
	var off int64
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
			idx, n, err := readUvarintCounted(br)
			if err != nil {
				return segs, nil // torn
			}
			off += 1 + int64(n)
			segs = append(segs, journalSegment{node: node, path: path, start: idx, end: idx, offset: off})
		case 'E':
			l, n, ok := readJournalLog(br, true)
			if !ok {
				return segs, nil // torn
			}
			if len(segs) == 0 || l.Index <= segs[len(segs)-1].end {
				return nil, fmt.Errorf("%s: log %d out of order", path, l.Index)
			}
			segs[len(segs)-1].end = l.Index
			off += 1 + n
		default:
			return nil, fmt.Errorf("%s: bad record kind %#x", path, kind)
		}
	}
}

func readUvarintCounted(br *bufio.Reader) (uint64, int, error) {
	var v uint64
	for i, shift := 0, uint(0); i < binary.MaxVarintLen64; i, shift = i+1, shift+7 {
		b, err := br.ReadByte()
		if err != nil {
			return 0, i, err
		}
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v, i + 1, nil
		}
	}
	return 0, binary.MaxVarintLen64, errors.New("varint overflow")
}

// readJournalLog reads an 'E' record's body; with skip it discards the
// data. It returns the body's length in bytes.
func readJournalLog(br *bufio.Reader, skip bool) (*hraft.Log, int64, bool) {
	idx, n1, err1 := readUvarintCounted(br)
	term, n2, err2 := readUvarintCounted(br)
	typ, err3 := br.ReadByte()
	size, n4, err4 := readUvarintCounted(br)
	if errors.Join(err1, err2, err3, err4) != nil || size > maxJournalData {
		return nil, 0, false
	}
	l := &hraft.Log{Index: idx, Term: term, Type: hraft.LogType(typ)}
	if skip {
		if _, err := br.Discard(int(size)); err != nil {
			return nil, 0, false
		}
	} else {
		l.Data = make([]byte, size)
		if _, err := io.ReadFull(br, l.Data); err != nil {
			return nil, 0, false
		}
	}
	return l, int64(n1+n2+1+n4) + int64(size), true
}

// segmentReader streams one segment's logs.
type segmentReader struct {
	seg  journalSegment
	f    *os.File
	br   *bufio.Reader
	head *hraft.Log // nil when the segment is exhausted
}

func openSegment(s journalSegment) (*segmentReader, error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(s.offset, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	r := &segmentReader{seg: s, f: f, br: bufio.NewReaderSize(f, 1<<16)}
	r.next()
	return r, nil
}

// next moves to the segment's next log (scanJournal vouched for them).
func (r *segmentReader) next() {
	r.head = nil
	if kind, err := r.br.ReadByte(); err != nil || kind != 'E' {
		return
	}
	if l, _, ok := readJournalLog(r.br, false); ok && l.Index <= r.seg.end {
		r.head = l
	}
}

func (r *segmentReader) close() { r.f.Close() }

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
// (0, upTo]. ledgerDir receives the replay's ledger. It streams: a few
// segments are open at a time, whatever the journals' size.
func ReplayJournals(paths []string, prog *engine.Program, upTo uint64, ledgerDir string) (JournalReplay, error) {
	var r JournalReplay
	var segs []journalSegment
	for _, p := range paths {
		s, err := scanJournal(p)
		if err != nil {
			return r, err
		}
		segs = append(segs, s...)
	}
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].start < segs[j].start })
	covered := uint64(0)
	for _, s := range segs {
		if s.start > covered {
			break // a hole: no journal knows the logs in (covered, s.start]
		}
		covered = max(covered, s.end)
	}
	if covered < upTo {
		return r, fmt.Errorf("raft journal: the journals cover the log up to %d only, not %d", min(covered, upTo), upTo)
	}

	led, err := ledger.Open(ledgerDir, ledger.Options{})
	if err != nil {
		return r, err
	}
	defer led.Close()
	f := newFSM(prog, led, hclog.NewNullLogger(), func() bool { return false })
	defer f.lw.close()

	// Merge: the segments that start at or below the last applied index
	// are active; the next log is the lowest head among them, and every
	// active segment holding that index must hold the same log.
	var active []*segmentReader
	defer func() {
		for _, a := range active {
			a.close()
		}
	}()
	const chunk = 64
	batch := make([]*hraft.Log, 0, chunk)
	cur, nextSeg := uint64(0), 0
	for cur < upTo {
		for nextSeg < len(segs) && segs[nextSeg].start <= cur {
			sr, err := openSegment(segs[nextSeg])
			if err != nil {
				return r, err
			}
			active = append(active, sr)
			nextSeg++
		}
		var low *hraft.Log
		kept := active[:0]
		for _, a := range active {
			for a.head != nil && a.head.Index <= cur {
				a.next()
			}
			if a.head == nil {
				a.close()
				continue
			}
			kept = append(kept, a)
			if low == nil || a.head.Index < low.Index {
				low = a.head
			}
		}
		active = kept
		if low == nil || low.Index > upTo {
			break
		}
		for _, a := range active {
			if a.head.Index != low.Index || a.head == low {
				continue
			}
			if a.head.Term != low.Term || a.head.Type != low.Type || string(a.head.Data) != string(low.Data) {
				return r, fmt.Errorf("raft journal: log %d differs between nodes (%s has term %d, another term %d)", low.Index, a.seg.node, a.head.Term, low.Term)
			}
			r.Compared++
		}
		batch = append(batch, low)
		cur = low.Index
		r.Logs++
		if len(batch) == chunk {
			f.ApplyBatch(batch)
			batch = batch[:0]
		}
		if e := f.fatal.Load(); e != nil {
			return r, *e
		}
	}
	if len(batch) > 0 {
		f.ApplyBatch(batch)
	}
	if e := f.fatal.Load(); e != nil {
		return r, *e
	}
	r.Index, r.StateHash = upTo, f.stateHash()
	return r, nil
}
