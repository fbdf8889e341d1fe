package ledger

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/cockroachdb/pebble/v2"
)

// Shipping moves entries from one replica's ledger to another's: a node
// that catches up by a snapshot install never sees the commands between
// its ledger's position and the snapshot, so the leader sends the entries
// with the snapshot (raft/ does the framing). Entries are shipped with
// account names, not owner ids, and the receiver appends them through
// Append, so its owner table, indexes and balances come out exactly as
// if it had applied the commands itself. Batch positions and the hash
// chain are a replica's own (hraft batches applies differently on each
// node); seqs and entry contents are the same on every replica, which is
// what Import relies on and what VerifySummary.Digest lets one compare.
//
// Stream: uvarint version, then per batch uvarint position (0 ends the
// stream), uvarint first seq, uvarint count and the entries; then uvarint
// last seq of the stream. An entry is varint at, uvarint len + command id,
// kind byte, debit (kind byte, uvarint len + owner), credit (the same),
// uvarint points.
const shipVersion = 1

// maxShipString bounds an id or owner read from a stream.
const maxShipString = 1 << 12

// maxShipBatch bounds the entries of one shipped batch (a Raft entry's
// commands times the entries a command makes, with room to spare).
const maxShipBatch = 1 << 24

// Export writes every batch at a position <= to, read from one consistent
// view of the store. It returns the last seq written.
func (l *Ledger) Export(w io.Writer, to uint64) (lastSeq uint64, err error) {
	snap := l.db.NewSnapshot()
	defer snap.Close()
	bw := bufio.NewWriterSize(w, 1<<16)
	var buf []byte
	buf = binary.AppendUvarint(buf, shipVersion)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: []byte{pBatch}, UpperBound: batchKey(to + 1)})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	br, err := newBlockReader(snap)
	if err != nil {
		return 0, err
	}
	defer br.close()
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != 9 {
			return 0, fmt.Errorf("%w: batch key %x", ErrCorrupt, k)
		}
		pos := binary.BigEndian.Uint64(k[1:])
		rec, err := decodeBatchRec(it.Value())
		if err != nil {
			return 0, fmt.Errorf("%w: batch %d: %v", ErrCorrupt, pos, err)
		}
		if rec.FirstSeq != lastSeq+1 {
			return 0, fmt.Errorf("%w: batch %d starts at seq %d after seq %d", ErrCorrupt, pos, rec.FirstSeq, lastSeq)
		}
		buf = binary.AppendUvarint(buf, pos)
		buf = binary.AppendUvarint(buf, rec.FirstSeq)
		buf = binary.AppendUvarint(buf, rec.Count)
		for seq := rec.FirstSeq; seq < rec.FirstSeq+rec.Count; seq++ {
			raw, err := br.get(seq)
			if err != nil {
				return 0, err
			}
			e, err := l.entry(snap, raw)
			if err != nil {
				return 0, err
			}
			buf = appendShipEntry(buf, &e)
			if len(buf) >= 1<<15 {
				if _, err := bw.Write(buf); err != nil {
					return 0, err
				}
				buf = buf[:0]
			}
		}
		lastSeq = rec.FirstSeq + rec.Count - 1
	}
	if err := it.Error(); err != nil {
		return 0, err
	}
	buf = binary.AppendUvarint(buf, 0)
	buf = binary.AppendUvarint(buf, lastSeq)
	if _, err := bw.Write(buf); err != nil {
		return 0, err
	}
	return lastSeq, bw.Flush()
}

func appendShipEntry(b []byte, e *Entry) []byte {
	b = binary.AppendVarint(b, e.AtMS)
	b = binary.AppendUvarint(b, uint64(len(e.CommandID)))
	b = append(b, e.CommandID...)
	b = append(b, byte(e.Kind))
	for _, a := range [2]*Account{&e.Debit, &e.Credit} {
		b = append(b, byte(a.Kind))
		b = binary.AppendUvarint(b, uint64(len(a.Owner)))
		b = append(b, a.Owner...)
	}
	return binary.AppendUvarint(b, uint64(e.Points))
}

// ImportSummary says what Import did.
type ImportSummary struct {
	Skipped  uint64 // entries the ledger already held
	Appended uint64 // entries appended
	Batches  uint64 // Append calls
	LastSeq  uint64 // the stream's last seq
}

// Import reads a stream written by Export and appends the entries this
// ledger lacks (seq > LastSeq()) at the stream's batch positions above
// Position(). Entries of a batch at or below Position() must already be
// here; a stream that ends before LastSeq(), or whose seqs skip, is refused
// before anything is written at that point. Each appended batch is one
// Append, so a crash leaves a prefix and a later Import resumes.
func (l *Ledger) Import(r io.Reader) (ImportSummary, error) {
	return importStream(r, l.LastSeq, l.Position, l.Append)
}

// importStream is Import over functions, so that the decoder can be fuzzed
// without a store.
func importStream(r io.Reader, lastSeq, position func() uint64, appendFn func(uint64, []Entry) error) (ImportSummary, error) {
	var s ImportSummary
	d := shipReader{r: bufio.NewReaderSize(r, 1<<16)}
	if v := d.uvarint(); d.err == nil && v != shipVersion {
		return s, fmt.Errorf("ledger: import: stream version %d, want %d", v, shipVersion)
	}
	var entries []Entry
	var prevSeq uint64
	for d.err == nil {
		pos := d.uvarint()
		if pos == 0 || d.err != nil {
			break
		}
		first, count := d.uvarint(), d.uvarint()
		if d.err == nil && (first != prevSeq+1 || count > maxShipBatch) {
			return s, fmt.Errorf("ledger: import: batch %d: seqs %d+%d after %d", pos, first, count, prevSeq)
		}
		entries = entries[:0]
		firstNew := uint64(0)
		have := lastSeq()
		for seq := first; seq < first+count && d.err == nil; seq++ {
			e := d.entry()
			if seq <= have {
				s.Skipped++
				continue
			}
			if firstNew == 0 {
				firstNew = seq
			}
			entries = append(entries, e)
		}
		prevSeq = first + count - 1
		if d.err != nil || len(entries) == 0 {
			continue
		}
		if pos <= position() {
			return s, fmt.Errorf("ledger: import: entries from seq %d belong to batch %d, at or below this ledger's position %d", firstNew, pos, position())
		}
		if err := appendFn(pos, entries); err != nil {
			return s, fmt.Errorf("ledger: import: %w", err)
		}
		s.Appended += uint64(len(entries))
		s.Batches++
	}
	s.LastSeq = d.uvarint()
	if d.err != nil {
		return s, fmt.Errorf("ledger: import: %w", d.err)
	}
	if s.LastSeq != prevSeq {
		return s, fmt.Errorf("ledger: import: stream ends at seq %d but its batches end at %d", s.LastSeq, prevSeq)
	}
	if lastSeq() < s.LastSeq {
		return s, fmt.Errorf("ledger: import: ledger at seq %d after a stream ending at %d", lastSeq(), s.LastSeq)
	}
	return s, nil
}

// shipReader decodes a shipping stream; the first error sticks.
type shipReader struct {
	r   *bufio.Reader
	err error
}

func (d *shipReader) fail(err error) {
	if d.err == nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		d.err = err
	}
}

func (d *shipReader) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(d.r)
	if err != nil {
		d.fail(err)
	}
	return v
}

func (d *shipReader) byte1() byte {
	if d.err != nil {
		return 0
	}
	b, err := d.r.ReadByte()
	if err != nil {
		d.fail(err)
	}
	return b
}

func (d *shipReader) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > maxShipString {
		d.fail(fmt.Errorf("string of %d bytes", n))
		return ""
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.fail(err)
	}
	return string(b)
}

func (d *shipReader) entry() Entry {
	var e Entry
	if d.err != nil {
		return e
	}
	at, err := binary.ReadVarint(d.r)
	if err != nil {
		d.fail(err)
	}
	e.AtMS = at
	e.CommandID = d.str()
	e.Kind = Kind(d.byte1())
	e.Debit = Account{Kind: AccountKind(d.byte1()), Owner: d.str()}
	e.Credit = Account{Kind: AccountKind(d.byte1()), Owner: d.str()}
	e.Points = int64(d.uvarint())
	return e
}
