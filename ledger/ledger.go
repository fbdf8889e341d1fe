package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Options configures a Ledger. Zero values take the defaults noted.
type Options struct {
	// CacheSize is the Pebble block cache in bytes (default 256 MiB).
	// Statements and balances read small, scattered blocks; a real cache keeps
	// hot members' index blocks and recent entry blocks in memory.
	CacheSize int64
	// MemTableSize is the Pebble memtable size in bytes (default 64 MiB).
	// Pebble's 4 MiB default makes 10k-entry batches stall on L0 flushes.
	MemTableSize uint64
	// Sync makes every Append fsync the WAL (pebble.Sync). Off by default:
	// the engine's Raft log (or replay file) is the durable source and the
	// ledger is rebuilt from Position()+1 after a crash.
	Sync bool
	// CompactionConcurrency is the maximum number of concurrent compactions
	// (default 2).
	CompactionConcurrency int
	// OwnerCacheSize bounds the owners cached by name (default 1<<26, about
	// 30 B an owner plus its name; see ownerCache). Members' running
	// balances are kept for every member (40 B each).
	OwnerCacheSize int
	// ReadOnly opens the store read-only (Append fails).
	ReadOnly bool
	// Logger receives Pebble's log messages (default: discarded).
	Logger pebble.Logger

	fs        vfs.FS // tests: in-memory file system
	noFilters bool   // benchmarks: no bloom filters, to measure what they save
}

func (o *Options) setDefaults() {
	if o.CacheSize <= 0 {
		o.CacheSize = 256 << 20
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = 64 << 20
	}
	if o.CompactionConcurrency <= 0 {
		o.CompactionConcurrency = 2
	}
	if o.OwnerCacheSize <= 0 {
		o.OwnerCacheSize = 1 << 26
	}
	if o.Logger == nil {
		o.Logger = quietLogger{}
	}
}

type quietLogger struct{}

func (quietLogger) Infof(string, ...interface{})  {}
func (quietLogger) Errorf(string, ...interface{}) {}
func (quietLogger) Fatalf(format string, args ...interface{}) {
	panic(fmt.Sprintf(format, args...))
}

// pebbleOptions translates Options into Pebble options. The choices follow
// FIELD-NOTES "State machine and its store": Pebble's defaults (4 MiB
// memtable, 8 MiB cache, no bloom filters, one compaction) stall large
// batches in L0.
func pebbleOptions(o Options) (*pebble.Options, func()) {
	cache := pebble.NewCache(o.CacheSize)
	lcr := o.CompactionConcurrency
	po := &pebble.Options{
		Cache: cache,
		// 64 MiB memtables, up to 4 queued before writes stop: a 10k-entry
		// batch is ~1 MiB, so a flush never blocks the writer in steady state.
		MemTableSize:                o.MemTableSize,
		MemTableStopWritesThreshold: 4,
		// Higher L0 thresholds than the defaults (4/12): absorb bursts of
		// flushes instead of stalling; compactions catch up in background.
		L0CompactionThreshold: 4,
		L0StopWritesThreshold: 24,
		LBaseMaxBytes:         256 << 20,
		CompactionConcurrencyRange: func() (int, int) {
			return 1, lcr
		},
		FormatMajorVersion: pebble.FormatNewest,
		ReadOnly:           o.ReadOnly,
		Logger:             o.Logger,
		FS:                 o.fs,
		// A failed block checksum is returned to the reader, its file in
		// pebble.ExtractDataCorruptionInfo, instead of Pebble's default, a
		// Fatalf (a panic through quietLogger) in whatever goroutine read.
		EventListener: &pebble.EventListener{DataCorruption: func(pebble.DataCorruptionInfo) {}},
	}
	po.TargetFileSizes[0] = 8 << 20
	for i := range po.Levels {
		// Bloom filters (10 bits/key, ~1% false positives) serve the point
		// lookups: command records (r<id>, mostly misses: a new command's
		// id), owner interning (o<ns><name> -> id, mostly misses for new
		// members), id -> name, meta. Range scans over the member and
		// command indexes are not helped, nor hurt beyond ~1.25 B/key.
		// BenchmarkRecordLookupMissing measures what they save.
		if !o.noFilters {
			po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		}
		po.Levels[i].BlockSize = 16 << 10 // fewer index entries, better compression
	}
	// "Balanced": MinLZ/Snappy in the upper levels (cheap, data there is
	// short-lived), zstd level 1 in the bottom levels where ~90% of the data
	// lives. Entry blocks are varint-packed already; zstd still shares
	// command-id/member-id bytes across values and squeezes index keys.
	po.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionBalanced })
	return po, func() { cache.Unref() }
}

// Ledger is an open ledger store. Append must be called from one goroutine
// at a time (it serializes callers); queries are safe concurrently with
// Append and with each other and see whole batches only.
type Ledger struct {
	db   *pebble.DB
	opts Options
	wo   *pebble.WriteOptions

	position atomic.Uint64
	lastSeq  atomic.Uint64
	// writes counts committed batches; a RecordReader reopens its view
	// when it has moved.
	writes atomic.Uint64

	appendMu  sync.Mutex       // serializes Append and Close
	meta      meta             // guarded by appendMu
	broken    error            // guarded by appendMu: a failed commit poisons the handle
	closed    bool             // guarded by appendMu
	nonMember map[uint64]int64 // partner and operator balances

	// scratch buffers, guarded by appendMu
	raws   []rawEntry
	valBuf []byte
	keyBuf []byte

	cmu sync.Mutex // guards the owners' names (the balances: appendMu)
	// owners interns owner names both ways and holds members' running
	// balances.
	owners *ownerCache
	// ownersComplete: owners holds every owner in the store, so an owner
	// missing from it is new and needs no lookup in Pebble (most of an
	// append's cost for a stream of first-time members otherwise). It holds
	// from Open while the owners fit the cache, and ends when the cache
	// overflows.
	ownersComplete bool
	nameBuf        []byte // scratch owner key, guarded by appendMu
}

type memberState struct {
	loaded                   bool // read from the member index (or new)
	has                      bool
	maxAtMS                  int64
	available, pending, held int64
}

// Open opens (creating if needed) the ledger in dir.
func Open(dir string, opts Options) (*Ledger, error) {
	opts.setDefaults()
	po, release := pebbleOptions(opts)
	defer release()
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("ledger: open %s: %w", dir, err)
	}
	l := &Ledger{
		db:        db,
		opts:      opts,
		wo:        pebble.NoSync,
		nonMember: make(map[uint64]int64),
		owners:    newOwnerCache(opts.OwnerCacheSize),
	}
	if opts.Sync {
		l.wo = pebble.Sync
	}
	if err := l.load(); err != nil {
		db.Close()
		return nil, err
	}
	return l, nil
}

func (l *Ledger) load() error {
	m, found, err := readMeta(l.db)
	if err != nil {
		return err
	}
	if !found {
		// A store without meta holds nothing but, after a crash in Import,
		// command records.
		k, only, err := onlyRecords(l.db)
		if err != nil {
			return err
		}
		if !only {
			return fmt.Errorf("%w: meta key missing in a store holding key %x", ErrCorrupt, k)
		}
		m = meta{Version: formatVersion, NextOwnerID: 1}
	} else {
		// Assert: meta agrees with the last batch record.
		last, ok, err := lastBatch(l.db)
		if err != nil {
			return err
		}
		if !ok || last.pos != m.Position || last.rec.Hash != m.Hash || last.rec.FirstSeq+last.rec.Count-1 != m.LastSeq {
			return fmt.Errorf("%w: meta (position %d, seq %d) disagrees with the last batch record", ErrCorrupt, m.Position, m.LastSeq)
		}
	}
	l.meta = m
	l.position.Store(m.Position)
	l.lastSeq.Store(m.LastSeq)
	if err := l.loadOwners(); err != nil {
		return err
	}
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{pBalance}, UpperBound: []byte{pBalance + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		bal, n := binary.Uvarint(it.Value())
		if len(k) != 9 || n <= 0 {
			return fmt.Errorf("%w: balance key %x", ErrCorrupt, k)
		}
		l.nonMember[binary.BigEndian.Uint64(k[1:])] = unzig(bal)
	}
	return it.Error()
}

// loadOwners fills the owner cache with every owner when they fit, so that
// appends need not look new owners up in Pebble (see ownersComplete).
func (l *Ledger) loadOwners() error {
	if uint64(l.meta.NextOwnerID) > uint64(l.opts.OwnerCacheSize) {
		return nil
	}
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{pOwnerID}, UpperBound: []byte{pOwnerID + 1}})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		k, v := it.Key(), it.Value()
		if len(k) < 2 || len(v) != 4 {
			it.Close()
			return fmt.Errorf("%w: owner key %x", ErrCorrupt, k)
		}
		if !l.owners.add(string(k[1:]), binary.BigEndian.Uint32(v)) {
			it.Close()
			return nil // full after all: not complete
		}
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return err
	}
	l.ownersComplete = true
	return nil
}

func readMeta(r pebble.Reader) (meta, bool, error) {
	v, c, err := r.Get(metaKey)
	if errors.Is(err, pebble.ErrNotFound) {
		return meta{}, false, nil
	}
	if err != nil {
		return meta{}, false, err
	}
	defer c.Close()
	m, err := decodeMeta(v)
	if err != nil {
		return m, true, fmt.Errorf("%w: meta: %v", ErrCorrupt, err)
	}
	return m, true, nil
}

type posRec struct {
	pos uint64
	rec batchRec
}

func lastBatch(r pebble.Reader) (posRec, bool, error) {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: []byte{pBatch}, UpperBound: []byte{pBatch + 1}})
	if err != nil {
		return posRec{}, false, err
	}
	defer it.Close()
	if !it.Last() {
		return posRec{}, false, it.Error()
	}
	k := it.Key()
	if len(k) != 9 {
		return posRec{}, false, fmt.Errorf("%w: batch key %x", ErrCorrupt, k)
	}
	rec, err := decodeBatchRec(it.Value())
	if err != nil {
		return posRec{}, false, fmt.Errorf("%w: batch %d: %v", ErrCorrupt, binary.BigEndian.Uint64(k[1:]), err)
	}
	return posRec{pos: binary.BigEndian.Uint64(k[1:]), rec: rec}, true, nil
}

// Close closes the store. The last NoSync appends are flushed by Pebble's
// close (WAL written to the OS), not fsynced.
func (l *Ledger) Close() error {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	return l.db.Close()
}

// Position is the last appended position, 0 when empty.
func (l *Ledger) Position() uint64 { return l.position.Load() }

// LastSeq is the seq of the last entry, 0 when empty.
func (l *Ledger) LastSeq() uint64 { return l.lastSeq.Load() }

// DB exposes the underlying Pebble handle (metrics, tests). Do not write.
func (l *Ledger) DB() *pebble.DB { return l.db }
