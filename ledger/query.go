package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/cockroachdb/pebble/v2"
)

// ownerName resolves an owner id to its name (without namespace byte).
func (l *Ledger) ownerName(r pebble.Reader, id uint32) (string, error) {
	l.cmu.Lock()
	n, ok := l.owners.nameString(id)
	l.cmu.Unlock()
	if ok {
		return n[1:], nil
	}
	v, c, err := r.Get(idOwnerKey(id))
	if errors.Is(err, pebble.ErrNotFound) {
		return "", fmt.Errorf("%w: owner id %d has no name", ErrCorrupt, id)
	}
	if err != nil {
		return "", err
	}
	n = string(v) // copy before closing
	c.Close()
	if len(n) < 2 {
		return "", fmt.Errorf("%w: owner id %d: bad name", ErrCorrupt, id)
	}
	l.cacheOwner(n, id)
	return n[1:], nil
}

func (l *Ledger) ownerID(r pebble.Reader, ns byte, name string) (uint32, bool, error) {
	nsName := append([]byte{ns}, name...)
	l.cmu.Lock()
	id, ok := l.owners.id(nsName)
	l.cmu.Unlock()
	if ok {
		return id, true, nil
	}
	id, ok, err := lookupOwnerDB(r, ns, name)
	if ok {
		l.cacheOwner(string(ns)+name, id)
	}
	return id, ok, err
}

func (l *Ledger) account(r pebble.Reader, code uint64) (Account, error) {
	k := codeKind(code)
	if k.IsOperator() {
		return Account{Kind: k}, nil
	}
	n, err := l.ownerName(r, codeOwner(code))
	return Account{Kind: k, Owner: n}, err
}

func (l *Ledger) entry(r pebble.Reader, e *rawEntry) (Entry, error) {
	d, err := l.account(r, e.Debit)
	if err != nil {
		return Entry{}, err
	}
	c, err := l.account(r, e.Credit)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Seq: e.Seq, AtMS: e.AtMS, CommandID: e.CommandID, Kind: e.Kind, Debit: d, Credit: c, Points: e.Points}, nil
}

// blockReader fetches entries by seq, decoding each block once while it
// stays the current one.
type blockReader struct {
	it       *pebble.Iterator
	firstSeq uint64
	raws     []rawEntry
}

func newBlockReader(r pebble.Reader) (*blockReader, error) {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: []byte{pBlock}, UpperBound: []byte{pBlock + 1}})
	if err != nil {
		return nil, err
	}
	return &blockReader{it: it}, nil
}

func (br *blockReader) close() { br.it.Close() }

func (br *blockReader) get(seq uint64) (*rawEntry, error) {
	if len(br.raws) > 0 && seq >= br.firstSeq && seq < br.firstSeq+uint64(len(br.raws)) {
		return &br.raws[seq-br.firstSeq], nil
	}
	if seq == 0 || seq == math.MaxUint64 {
		return nil, fmt.Errorf("ledger: bad seq %d", seq)
	}
	if !br.it.SeekLT(blockKey(seq + 1)) {
		if err := br.it.Error(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: no block holds seq %d", ErrCorrupt, seq)
	}
	if err := br.load(); err != nil {
		return nil, err
	}
	if seq >= br.firstSeq+uint64(len(br.raws)) {
		return nil, fmt.Errorf("%w: no block holds seq %d", ErrCorrupt, seq)
	}
	return &br.raws[seq-br.firstSeq], nil
}

// load decodes the block under the iterator (entries are copied out).
func (br *blockReader) load() error {
	k := br.it.Key()
	br.raws = br.raws[:0]
	if len(k) != 9 {
		return fmt.Errorf("%w: block key %x", ErrCorrupt, k)
	}
	br.firstSeq = binary.BigEndian.Uint64(k[1:])
	v, err := br.it.ValueAndErr()
	if err != nil {
		return err
	}
	br.raws, err = decodeBlock(v, br.firstSeq, br.raws)
	if err != nil {
		br.raws = br.raws[:0]
		return fmt.Errorf("%w: block seq %d: %v", ErrCorrupt, br.firstSeq, err)
	}
	return nil
}

// maxCommandEntries bounds CommandEntries.
const maxCommandEntries = 1 << 20

// CommandEntries returns the entries written under a command id, in seq
// order (empty, no error, for an unknown command).
func (l *Ledger) CommandEntries(commandID string) ([]Entry, error) {
	snap := l.db.NewSnapshot()
	defer snap.Close()
	p := commandPrefix(commandID)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: upperBound(p)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	br, err := newBlockReader(snap)
	if err != nil {
		return nil, err
	}
	defer br.close()
	var out []Entry
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		n, w := binary.Uvarint(it.Value())
		if len(k) != len(p)+8 || w <= 0 || n == 0 || n > maxCommandEntries {
			return out, fmt.Errorf("%w: command index %x", ErrCorrupt, k)
		}
		seq := binary.BigEndian.Uint64(k[len(p):])
		if len(out)+int(n) > maxCommandEntries {
			return out, fmt.Errorf("ledger: command %q has more than %d entries", commandID, maxCommandEntries)
		}
		for i := uint64(0); i < n; i++ {
			raw, err := br.get(seq + i)
			if err != nil {
				return out, err
			}
			if raw.CommandID != commandID {
				return out, fmt.Errorf("%w: command index %q points at seq %d of command %q", ErrCorrupt, commandID, seq+i, raw.CommandID)
			}
			e, err := l.entry(snap, raw)
			if err != nil {
				return out, err
			}
			out = append(out, e)
		}
	}
	return out, it.Error()
}
