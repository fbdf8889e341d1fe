package faultinject

// Reading the journals back (journal.go has the format): a scan lists each
// journal's segments, segment readers stream their logs, and a merge
// yields the committed log in order, checking on the way that the nodes
// applied the same bytes at the same index, to raft.ReplayLogs.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	hraft "github.com/hashicorp/raft"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/raft"
)

// maxJournalData caps one log's data read back (a corrupt length cannot
// make the reader allocate more).
const maxJournalData = 64 << 20

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
// is the same, applies the logs to a fresh state machine with prog
// (raft.ReplayLogs), and returns its state hash right after upTo
// (comparable with Node.StateHashAt). It fails when no journal covers some
// part of (0, upTo]. ledgerDir receives the replay's ledger. It streams: a
// few segments are open at a time, whatever the journals' size.
func ReplayJournals(paths []string, prog *engine.Program, upTo uint64, ledgerDir string) (JournalReplay, error) {
	var r JournalReplay
	segs, err := scanJournals(paths, upTo)
	if err != nil {
		return r, err
	}
	m := &merger{segs: segs, upTo: upTo}
	defer m.close()
	hash, err := raft.ReplayLogs(prog, ledgerDir, m.logs)
	if m.err != nil {
		err = m.err
	}
	r.Logs, r.Compared = m.count, m.compared
	if err != nil {
		return r, err
	}
	r.Index, r.StateHash = upTo, hash
	return r, nil
}

// scanJournals lists the segments of every journal by start index, and
// checks that together they cover the log up to upTo.
func scanJournals(paths []string, upTo uint64) ([]journalSegment, error) {
	var segs []journalSegment
	for _, p := range paths {
		s, err := scanJournal(p)
		if err != nil {
			return nil, err
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
		return nil, fmt.Errorf("raft journal: the journals cover the log up to %d only, not %d", min(covered, upTo), upTo)
	}
	return segs, nil
}

// merger yields the committed log from the segments. The segments that
// start at or below the last yielded index are active; the next log is
// the lowest head among them, and every active segment holding that index
// must hold the same log.
type merger struct {
	segs     []journalSegment
	upTo     uint64
	active   []*segmentReader
	count    int // logs yielded
	compared int
	err      error // ends the logs early
}

// logs is the iterator handed to raft.ReplayLogs.
func (m *merger) logs(yield func(*hraft.Log) bool) {
	cur, nextSeg := uint64(0), 0
	for cur < m.upTo {
		for nextSeg < len(m.segs) && m.segs[nextSeg].start <= cur {
			sr, err := openSegment(m.segs[nextSeg])
			if err != nil {
				m.err = err
				return
			}
			m.active = append(m.active, sr)
			nextSeg++
		}
		low := m.lowest(cur)
		if low == nil || low.Index > m.upTo {
			return
		}
		if m.err = m.compare(low); m.err != nil {
			return
		}
		m.count++
		cur = low.Index
		if !yield(low) {
			return
		}
	}
}

// lowest drops the exhausted segments and returns the lowest head above
// cur among the active ones (nil when there is none).
func (m *merger) lowest(cur uint64) *hraft.Log {
	var low *hraft.Log
	kept := m.active[:0]
	for _, a := range m.active {
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
	m.active = kept
	return low
}

// compare checks low against the other active segments holding its index.
func (m *merger) compare(low *hraft.Log) error {
	for _, a := range m.active {
		if a.head.Index != low.Index || a.head == low {
			continue
		}
		if a.head.Term != low.Term || a.head.Type != low.Type || string(a.head.Data) != string(low.Data) {
			return fmt.Errorf("raft journal: log %d differs between nodes (%s has term %d, another term %d)", low.Index, a.seg.node, a.head.Term, low.Term)
		}
		m.compared++
	}
	return nil
}

func (m *merger) close() {
	for _, a := range m.active {
		a.close()
	}
}
