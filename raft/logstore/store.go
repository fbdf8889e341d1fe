package logstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/accrual/accrual/raft/crashpoint"
	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"
)

// Key prefixes. The two ranges are disjoint and every iterator is bounded to
// exactly one of them.
const (
	prefixMeta   byte = 0x00
	prefixLog    byte = 0x01
	prefixStable byte = 0x02

	logKeyLen = 1 + 8
)

var (
	// logLower and logUpper bound every log iterator: [0x01, 0x02).
	logLower = []byte{prefixLog}
	logUpper = []byte{prefixLog + 1}

	metaFormatKey = []byte{prefixMeta, 'f', 'o', 'r', 'm', 'a', 't'}
)

// storeFormat is the on-disk layout version written at creation.
const storeFormat = 1

// ErrClosed is returned by every method after Close.
var ErrClosed = errors.New("logstore: closed")

// ErrCorrupt is returned (wrapped) when a stored value cannot be decoded.
var ErrCorrupt = errors.New("logstore: corrupt value")

// Store is a raft.LogStore and raft.StableStore backed by its own Pebble
// database. It is safe for concurrent use, except that Close must not be
// called concurrently with other methods.
type Store struct {
	db     *pebble.DB
	dir    string
	closed atomic.Bool
}

var (
	_ raft.LogStore    = (*Store)(nil)
	_ raft.StableStore = (*Store)(nil)
)

// pebbleOptions are deliberately modest: this database holds a log that is
// appended at the tail, read mostly near the tail and truncated at the head.
// WAL on (durability comes from it), small block cache, memtable large
// enough to absorb a few 64 x 64 KiB append batches before flushing.
func pebbleOptions() *pebble.Options {
	return &pebble.Options{
		CacheSize:                   16 << 20,
		MemTableSize:                32 << 20,
		MemTableStopWritesThreshold: 4,
		L0CompactionThreshold:       4,
		L0StopWritesThreshold:       16,
		MaxOpenFiles:                256,
		Logger:                      quietLogger{},
		// FormatNewest (a store of an older format is upgraded at open)
		// writes WAL sync chunks: each says how far the WAL was synced,
		// which lets the replay at open tell a damaged chunk that synced
		// ones follow (refused: the log would lose acknowledged entries)
		// from a torn tail (dropped, as a crash leaves it).
		FormatMajorVersion: pebble.FormatNewest,
		// A failed block checksum is returned to the reader (GetLog,
		// Verify: verify.go names the file) instead of Pebble's default,
		// a Fatalf that exits the process mid-call.
		EventListener: &pebble.EventListener{DataCorruption: func(pebble.DataCorruptionInfo) {}},
	}
}

// quietLogger drops Pebble's informational messages but keeps errors.
type quietLogger struct{}

func (quietLogger) Infof(string, ...interface{}) {}
func (quietLogger) Errorf(format string, args ...interface{}) {
	pebble.DefaultLogger.Errorf(format, args...)
}
func (quietLogger) Fatalf(format string, args ...interface{}) {
	pebble.DefaultLogger.Fatalf(format, args...)
}

// Open opens (creating if needed) the store in dir. dir must be dedicated to
// this store; Pebble locks it, so a second Open of the same dir fails.
func Open(dir string) (*Store, error) {
	db, err := pebble.Open(dir, pebbleOptions())
	if err != nil {
		return nil, fmt.Errorf("logstore: open %s: %w", dir, err)
	}
	s := &Store{db: db, dir: dir}
	if err := s.checkFormat(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) checkFormat() error {
	v, closer, err := s.db.Get(metaFormatKey)
	if errors.Is(err, pebble.ErrNotFound) {
		var b [binary.MaxVarintLen64]byte
		n := binary.PutUvarint(b[:], storeFormat)
		if err := s.db.Set(metaFormatKey, b[:n], pebble.Sync); err != nil {
			return fmt.Errorf("logstore: write format: %w", err)
		}
		// A new store's first WAL was made before Pebble set its format:
		// without sync chunks. A flush moves the log to a new WAL that has
		// them.
		return s.db.Flush()
	}
	if err != nil {
		return fmt.Errorf("logstore: read format: %w", s.corrupt(err))
	}
	defer closer.Close()
	f, n := binary.Uvarint(v)
	if n <= 0 || n != len(v) || f != storeFormat {
		return fmt.Errorf("logstore: %s: unsupported store format %x", s.dir, v)
	}
	return nil
}

// Close closes the database. It is idempotent.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.db.Close()
}

// DB returns the store's Pebble database, for what reads its files
// whole (the node's background scrub lists its tables); write only
// through the Store.
func (s *Store) DB() *pebble.DB { return s.db }

func (s *Store) check() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

func putLogKey(dst []byte, index uint64) {
	dst[0] = prefixLog
	binary.BigEndian.PutUint64(dst[1:], index)
}

func logKey(index uint64) []byte {
	k := make([]byte, logKeyLen)
	putLogKey(k, index)
	return k
}

func parseLogKey(k []byte) (uint64, error) {
	if len(k) != logKeyLen || k[0] != prefixLog {
		return 0, fmt.Errorf("%w: bad log key %x", ErrCorrupt, k)
	}
	return binary.BigEndian.Uint64(k[1:]), nil
}

// boundIndex positions a log-bounded iterator at its first (last == false)
// or last entry and returns that entry's index, or 0 if the log is empty.
func (s *Store) boundIndex(last bool) (uint64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: logLower, UpperBound: logUpper})
	if err != nil {
		return 0, err
	}
	var ok bool
	if last {
		ok = it.Last()
	} else {
		ok = it.First()
	}
	var idx uint64
	if ok {
		idx, err = parseLogKey(it.Key())
	}
	if ierr := it.Error(); err == nil {
		err = ierr
	}
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return idx, nil
}

// FirstIndex returns the lowest stored index, or 0 if the log is empty.
func (s *Store) FirstIndex() (uint64, error) { return s.boundIndex(false) }

// LastIndex returns the highest stored index, or 0 if the log is empty.
func (s *Store) LastIndex() (uint64, error) { return s.boundIndex(true) }

// GetLog reads the entry at index into log, overwriting every field. A
// missing index returns exactly raft.ErrLogNotFound.
func (s *Store) GetLog(index uint64, log *raft.Log) error {
	if err := s.check(); err != nil {
		return err
	}
	var k [logKeyLen]byte
	putLogKey(k[:], index)
	v, closer, err := s.db.Get(k[:])
	if errors.Is(err, pebble.ErrNotFound) {
		return raft.ErrLogNotFound
	}
	if err != nil {
		return s.corrupt(err)
	}
	// decodeLog copies everything it keeps; v is invalid after Close.
	err = decodeLog(v, index, log)
	closer.Close()
	return s.corrupt(err)
}

// StoreLog stores one entry (StoreLogs with one element).
func (s *Store) StoreLog(log *raft.Log) error {
	return s.StoreLogs([]*raft.Log{log})
}

// StoreLogs stores all entries in one batch committed with pebble.Sync. The
// entries' slices are copied into the batch; the caller may reuse them
// after return.
func (s *Store) StoreLogs(logs []*raft.Log) error {
	if err := s.check(); err != nil {
		return err
	}
	if len(logs) == 0 {
		return nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	for i, l := range logs {
		if l == nil {
			return fmt.Errorf("logstore: StoreLogs: nil entry at position %d", i)
		}
		op := b.SetDeferred(logKeyLen, encodedLogSize(l))
		putLogKey(op.Key, l.Index)
		encodeLog(op.Value, l)
		if err := op.Finish(); err != nil {
			return err
		}
	}
	return b.Commit(pebble.Sync)
}

// DeleteRange deletes entries min..max, both inclusive, with pebble.Sync.
// min > max is a no-op. max == math.MaxUint64 deletes to the end of the log
// prefix (max+1 would overflow). The range tombstone goes through a batch so
// the log-compaction crash point sits between building and committing it
// (Pebble commits it atomically: there is no other middle).
func (s *Store) DeleteRange(min, max uint64) error {
	if err := s.check(); err != nil {
		return err
	}
	if min > max {
		return nil
	}
	end := logUpper
	if max != math.MaxUint64 {
		end = logKey(max + 1)
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.DeleteRange(logKey(min), end, nil); err != nil {
		return err
	}
	crashpoint.At(crashpoint.LogCompaction)
	return b.Commit(pebble.Sync)
}

func stableKey(k []byte) []byte {
	sk := make([]byte, 1+len(k))
	sk[0] = prefixStable
	copy(sk[1:], k)
	return sk
}

// Set stores val under key, synced.
func (s *Store) Set(key, val []byte) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.db.Set(stableKey(key), val, pebble.Sync)
}

// Get returns a copy of the value under key; (nil, nil) if key is missing.
// A key set to an empty value returns a non-nil empty slice.
func (s *Store) Get(key []byte) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	v, closer, err := s.db.Get(stableKey(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := append(make([]byte, 0, len(v)), v...)
	closer.Close()
	return out, nil
}

// SetUint64 stores val as 8 big-endian bytes under key, synced.
func (s *Store) SetUint64(key []byte, val uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], val)
	return s.Set(key, b[:])
}

// GetUint64 returns the value under key; (0, nil) if key is missing.
func (s *Store) GetUint64(key []byte) (uint64, error) {
	v, err := s.Get(key)
	if err != nil || v == nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: stable key %q holds %d bytes, want 8", ErrCorrupt, key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}
