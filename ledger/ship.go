package ledger

import (
	"bufio"
	"bytes"
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
// The records the engine keeps per command id travel too (ledger records
// are replica-independent like the entries): the receiving engine, restored
// from the snapshot, finds every id it has seen in its own store. They are
// read from the same consistent view as the entries, so they may include
// records of batches after the position asked: the engine's as-of rule
// (a record created or changed at or after the position it applies next is
// read as not yet there) makes a store that is ahead harmless, while one
// that lacked records would answer an old id as new. That is also why the
// records come FIRST and Import writes them before any batch: a crash in
// between leaves records ahead of the entries, never behind.
//
// Stream (version 2): uvarint version; the records section: per record
// uvarint id length (0 ends the section), id, uvarint value length, value,
// in strictly increasing id order, then uvarint record count; then per
// batch uvarint position (0 ends the stream), uvarint first seq, uvarint
// count and the entries; then uvarint last seq of the stream. An entry is
// varint at, uvarint len + command id, kind byte, debit (kind byte,
// uvarint len + owner), credit (the same), uvarint points. Version 1 (no
// records section) is refused: read as version 2 it would lose records.
const shipVersion = 2

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
	buf := binary.AppendUvarint(nil, shipVersion)
	buf, err = exportRecords(snap, bw, buf)
	if err != nil {
		return 0, err
	}
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

// exportRecords writes the records section into bw (buf: bytes not yet
// written, returned the same way).
func exportRecords(snap *pebble.Snapshot, bw *bufio.Writer, buf []byte) ([]byte, error) {
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: []byte{pRecord}, UpperBound: []byte{pRecord + 1}})
	if err != nil {
		return buf, err
	}
	defer it.Close()
	var n uint64
	for ok := it.First(); ok; ok = it.Next() {
		id, v := it.Key()[1:], it.Value()
		if len(id) == 0 || len(id) > maxCommandIDLen || len(v) > maxRecordValueLen {
			return buf, fmt.Errorf("%w: record key %x", ErrCorrupt, it.Key())
		}
		buf = binary.AppendUvarint(buf, uint64(len(id)))
		buf = append(buf, id...)
		buf = binary.AppendUvarint(buf, uint64(len(v)))
		buf = append(buf, v...)
		n++
		if len(buf) >= 1<<15 {
			if _, err := bw.Write(buf); err != nil {
				return buf, err
			}
			buf = buf[:0]
		}
	}
	if err := it.Error(); err != nil {
		return buf, err
	}
	buf = binary.AppendUvarint(buf, 0)
	return binary.AppendUvarint(buf, n), nil
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
	Records  uint64 // command records written (every record the stream holds)
}

// Import reads a stream written by Export and appends the entries this
// ledger lacks (seq > LastSeq()) at the stream's batch positions above
// Position(). Entries of a batch at or below Position() must already be
// here; a stream that ends before LastSeq(), or whose seqs skip, is refused
// before anything is written at that point. Each appended batch is one
// Append, so a crash leaves a prefix and a later Import resumes. The
// stream's command records are written first, overwriting those stored
// under the same ids, in batches of up to about 1 MiB.
func (l *Ledger) Import(r io.Reader) (ImportSummary, error) {
	return importStream(r, l.LastSeq, l.Position, l.Append, l.putRecords)
}

// importStream is Import over functions, so that the decoder can be fuzzed
// without a store.
func importStream(r io.Reader, lastSeq, position func() uint64, appendFn func(uint64, []Entry) error,
	recordsFn func([]Record) error) (ImportSummary, error) {
	var s ImportSummary
	d := shipReader{r: bufio.NewReaderSize(r, 1<<16)}
	if v := d.uvarint(); d.err == nil && v != shipVersion {
		return s, fmt.Errorf("ledger: import: stream version %d, want %d (a version 1 stream carries no command records)", v, shipVersion)
	}
	n, err := d.records(recordsFn)
	s.Records = n
	if err != nil {
		return s, fmt.Errorf("ledger: import: %w", err)
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

// recordChunkBytes is about how many bytes of records Import writes per
// Pebble batch: large enough to amortise a commit, small enough that a big
// section never sits in memory whole.
const recordChunkBytes = 1 << 20

// records reads the records section and hands it to fn in chunks, checking
// that ids strictly increase. It returns the records written.
func (d *shipReader) records(fn func([]Record) error) (uint64, error) {
	var arena, prev []byte
	var chunk []Record
	var n uint64
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if err := fn(chunk); err != nil {
			return err
		}
		n += uint64(len(chunk))
		chunk, arena = chunk[:0], arena[:0]
		return nil
	}
	for d.err == nil {
		idLen := d.uvarint()
		if idLen == 0 || d.err != nil {
			break
		}
		rec, err := d.record(idLen, &arena)
		if err != nil {
			return n, err
		}
		if prev != nil && bytes.Compare(rec.ID, prev) <= 0 {
			return n, fmt.Errorf("record %q after %q: ids out of order", rec.ID, prev)
		}
		prev = append(prev[:0], rec.ID...)
		chunk = append(chunk, rec)
		if len(arena) >= recordChunkBytes {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := flush(); err != nil {
		return n, err
	}
	if total := d.uvarint(); d.err == nil && total != n {
		return n, fmt.Errorf("records section holds %d records but says %d", n, total)
	}
	return n, d.err
}

// record reads one record (its id length already read) into the arena. The
// record's slices alias the arena: they stay valid until it is reset (a
// grown arena leaves the earlier records in the old array, still valid).
func (d *shipReader) record(idLen uint64, arena *[]byte) (Record, error) {
	if idLen > maxCommandIDLen {
		return Record{}, fmt.Errorf("record id of %d bytes", idLen)
	}
	start := len(*arena)
	*arena = d.read(*arena, idLen)
	idEnd := len(*arena)
	vLen := d.uvarint()
	if d.err == nil && vLen > maxRecordValueLen {
		return Record{}, fmt.Errorf("record value of %d bytes", vLen)
	}
	*arena = d.read(*arena, vLen)
	if d.err != nil {
		return Record{}, d.err
	}
	a := *arena
	return Record{ID: a[start:idEnd:idEnd], Value: a[idEnd:len(a):len(a)]}, nil
}

// read appends n bytes of the stream to dst.
func (d *shipReader) read(dst []byte, n uint64) []byte {
	if d.err != nil {
		return dst
	}
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	if _, err := io.ReadFull(d.r, dst[start:]); err != nil {
		d.fail(err)
	}
	return dst
}
