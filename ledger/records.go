package ledger

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Command records: the engine's record of every command id it has seen
// (SPEC §6), kept here so that the engine holds only a window of recent ones.
// The ledger stores them as opaque values under r <id>: the engine owns the
// encoding (a format byte, then what it needs to answer a duplicate or find
// an original) and the ledger only writes and reads them, in the same Pebble
// batch as the entries and position of the batch that made or changed them.

// Record is one command record: the command id and the engine's encoding of
// what it remembers about it.
type Record struct {
	ID    []byte
	Value []byte
}

// maxRecordValueLen bounds a record value. The engine's largest record, a
// redemption over many lots, is a few KiB; the bound keeps a corrupt stream
// from asking for an absurd allocation.
const maxRecordValueLen = 1 << 20

func (r *Record) validate() error {
	switch {
	case len(r.ID) == 0 || len(r.ID) > maxCommandIDLen:
		return fmt.Errorf("record id must be 1..%d bytes, got %d", maxCommandIDLen, len(r.ID))
	case len(r.Value) > maxRecordValueLen:
		return fmt.Errorf("record %q: value of %d bytes > %d", r.ID, len(r.Value), maxRecordValueLen)
	}
	return nil
}

// AppendWithRecords is Append plus command records: the entries, the
// position, the chain link and the records go into ONE Pebble batch, so a
// crash leaves the records of exactly the batches whose position the store
// holds. A record whose id is already stored is overwritten (a replay after
// a crash rewrites the same ids, and a record the batch changed replaces its
// older value). Records are validated (id 1..1024 bytes, value <= 1 MiB)
// with the entries, before anything is written.
func (l *Ledger) AppendWithRecords(position uint64, entries []Entry, records []Record) error {
	for i := range records {
		if err := records[i].validate(); err != nil {
			return fmt.Errorf("ledger: append position %d: %w", position, err)
		}
	}
	return l.appendChecked(position, entries, records)
}

// writeRecords adds the records to a batch under their keys without
// allocating: the key and value are written into the batch's own buffer.
func writeRecords(b *pebble.Batch, records []Record) {
	for i := range records {
		r := &records[i]
		op := b.SetDeferred(1+len(r.ID), len(r.Value))
		op.Key[0] = pRecord
		copy(op.Key[1:], r.ID)
		copy(op.Value, r.Value)
		// Finish only errors for a batch that indexes its keys (an indexed
		// batch); the ledger's batches never do.
		_ = op.Finish()
	}
}

// recordBounds bound the iterators that read records (package-level, so
// that passing them allocates nothing).
var recordLower, recordUpper = []byte{pRecord}, []byte{pRecord + 1}

// recordIterOptions read records by prefix seek with every level's bloom
// filter. Pebble's Get skips the filters of L6, where most records live, so
// a miss there searches an index and a data block; with UseL6Filters the
// common miss (a new id) is answered by the filter. See
// BenchmarkRecordLookupMissing.
var recordIterOptions = pebble.IterOptions{LowerBound: recordLower, UpperBound: recordUpper, UseL6Filters: true}

// Record looks a command record up. dst is the caller's scratch buffer: its
// contents are overwritten (first by the key, then by the value) and the
// value returned is dst's array grown as needed, so a caller that passes the
// last value back (value[:0]) reads without allocating. Safe concurrently
// with appends and with other readers; a read sees whole batches only. A
// goroutine that reads many records should use a RecordReader.
func (l *Ledger) Record(id []byte, dst []byte) (value []byte, found bool, err error) {
	it, err := l.db.NewIter(&recordIterOptions)
	if err != nil {
		return dst[:0], false, fmt.Errorf("ledger: record %q: %w", id, err)
	}
	value, found, err = seekRecord(it, id, dst)
	return value, found, errors.Join(err, it.Close())
}

// seekRecord reads a record with an iterator over the record keys.
func seekRecord(it *pebble.Iterator, id []byte, dst []byte) ([]byte, bool, error) {
	key := append(append(dst[:0], pRecord), id...)
	if !it.SeekPrefixGE(key) || !bytes.Equal(it.Key(), key) {
		if err := it.Error(); err != nil {
			return key[:0], false, fmt.Errorf("ledger: record %q: %w", id, err)
		}
		return key[:0], false, nil
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return key[:0], false, fmt.Errorf("ledger: record %q: %w", id, err)
	}
	return append(key[:0], v...), true, nil
}

// RecordReader reads command records for one goroutine (the apply step's
// prefetch), keeping one Pebble iterator across reads: opening it is most of
// a lookup's cost. The iterator is a view of the store as of its opening,
// so the reader reopens it when the store has been written since (a counter
// the writer bumps after each commit): a read sees every batch whose
// AppendWithRecords returned before the read began, as Ledger.Record does.
// An idle reader pins the tables of its view until its next read or Close;
// close every reader before the ledger.
type RecordReader struct {
	l    *Ledger
	it   *pebble.Iterator
	seen uint64 // l.writes when it was opened
}

// NewRecordReader returns a reader for one goroutine.
func (l *Ledger) NewRecordReader() *RecordReader { return &RecordReader{l: l} }

// Record is Ledger.Record through the reader's iterator.
func (r *RecordReader) Record(id []byte, dst []byte) (value []byte, found bool, err error) {
	if w := r.l.writes.Load(); r.it == nil || w != r.seen {
		if err := r.Close(); err != nil {
			return dst[:0], false, fmt.Errorf("ledger: record reader: %w", err)
		}
		if r.it, err = r.l.db.NewIter(&recordIterOptions); err != nil {
			return dst[:0], false, fmt.Errorf("ledger: record reader: %w", err)
		}
		r.seen = w
	}
	return seekRecord(r.it, id, dst)
}

// Close releases the reader's iterator; the reader may be used again.
func (r *RecordReader) Close() error {
	if r.it == nil {
		return nil
	}
	err := r.it.Close()
	r.it = nil
	return err
}

// PutRecords writes command records outside an append, in one Pebble
// batch, overwriting the stored values of their ids; the position does not
// move. A node re-applying logs its ledger already holds writes with it the
// records those logs changed (its stored copies may be older: raft's
// snapshot install imports the leader's). Records are validated as
// AppendWithRecords does, before anything is written.
func (l *Ledger) PutRecords(records []Record) error {
	for i := range records {
		if err := records[i].validate(); err != nil {
			return fmt.Errorf("ledger: put records: %w", err)
		}
	}
	return l.putRecords(records)
}

// putRecords writes records outside an append, in one Pebble batch: Import
// uses it for the records a shipped stream carries. It takes the append
// lock, so it never interleaves with an Append.
func (l *Ledger) putRecords(records []Record) error {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	b := l.db.NewBatch()
	defer b.Close()
	writeRecords(b, records)
	if err := b.Commit(l.wo); err != nil {
		return fmt.Errorf("ledger: write records: %w", err)
	}
	l.writes.Add(1)
	return nil
}

// onlyRecords reports whether r holds no keys but command records: what a
// store without meta may hold after a crash in Import, which writes a
// stream's records before its first batch.
func onlyRecords(r pebble.Reader) (firstOther []byte, only bool, err error) {
	for _, bounds := range [2][2][]byte{{nil, {pRecord}}, {{pRecord + 1}, nil}} {
		it, err := r.NewIter(&pebble.IterOptions{LowerBound: bounds[0], UpperBound: bounds[1]})
		if err != nil {
			return nil, false, err
		}
		if it.First() {
			firstOther = append(firstOther, it.Key()...)
		}
		if err := errors.Join(it.Error(), it.Close()); err != nil {
			return nil, false, err
		}
		if firstOther != nil {
			return firstOther, false, nil
		}
	}
	return nil, true, nil
}
