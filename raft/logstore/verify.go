package logstore

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"
)

// Checks on read. Pebble checks a block's CRC whenever it reads the block
// from disk (a cached block was checked when it was read), and replays the
// WAL at Open with a CRC per chunk; decodeLog checks each entry's framing
// and that it holds the index of its key. Verify makes all of that happen
// at once, at a node's start, rather than at the first read of a damaged
// entry (which could be an apply, long after).

// Verify reads and decodes every log entry and the stable keys, so that
// every block of the store is read (and its checksum checked) once. It
// returns the number of entries read. Its cost is a read of the whole log,
// bounded by the Raft settings (SnapshotThreshold + TrailingLogs entries).
func (s *Store) Verify() (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	count := 0
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: logLower, UpperBound: []byte{prefixStable + 1}})
	if err != nil {
		return 0, s.corrupt(err)
	}
	var l raft.Log
	for ok := it.First(); ok && err == nil; ok = it.Next() {
		k := it.Key()
		if k[0] != prefixLog {
			continue // a stable key: read (its block checked), nothing to decode
		}
		var index uint64
		if index, err = parseLogKey(k); err == nil {
			err = decodeLog(it.Value(), index, &l)
			count++
		}
	}
	err = errors.Join(err, it.Error(), it.Close())
	return count, s.corrupt(err)
}

// corrupt names the store's file in an error that says the data is
// damaged (a failed block checksum: ErrCorrupt is added; an entry that does
// not decode: ErrCorrupt already); other errors pass unchanged.
func (s *Store) corrupt(err error) error {
	switch {
	case err == nil:
		return nil
	case pebble.IsCorruptionError(err):
		file := s.dir
		if info := pebble.ExtractDataCorruptionInfo(err); info != nil {
			file = info.Path
		}
		return fmt.Errorf("%w: %s: %w", ErrCorrupt, file, err)
	case errors.Is(err, ErrCorrupt):
		return fmt.Errorf("%s: %w", s.dir, err)
	}
	return err
}
