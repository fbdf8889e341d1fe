package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
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
	// OwnerCacheSize bounds the in-memory owner-id cache (default 1<<22).
	OwnerCacheSize int
	// MemberCacheSize bounds the in-memory cache of members' running
	// balances used by Append (default 1<<20).
	MemberCacheSize int
	// ReadOnly opens the store read-only (Append fails).
	ReadOnly bool
	// Logger receives Pebble's log messages (default: discarded).
	Logger pebble.Logger

	fs vfs.FS // tests: in-memory file system
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
		o.OwnerCacheSize = 1 << 22
	}
	if o.MemberCacheSize <= 0 {
		o.MemberCacheSize = 1 << 20
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
	}
	po.TargetFileSizes[0] = 8 << 20
	for i := range po.Levels {
		// Bloom filters (10 bits/key, ~1% false positives) serve the point
		// lookups: owner interning (o<ns><name> -> id, mostly misses for new
		// members), id -> name, meta. Range scans over the member and
		// command indexes are not helped, nor hurt beyond ~1.25 B/key.
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
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

	appendMu  sync.Mutex // serializes Append and Close
	meta      meta       // guarded by appendMu
	broken    error      // guarded by appendMu: a failed commit poisons the handle
	closed    bool       // guarded by appendMu
	members   map[uint32]*memberState
	nonMember map[uint64]int64 // partner and operator balances

	// scratch buffers, guarded by appendMu
	raws   []rawEntry
	valBuf []byte

	cmu        sync.Mutex // guards the owner caches
	ownerIDs   map[string]uint32
	ownerNames map[uint32]string
	// ownersComplete: ownerIDs holds every owner in the store, so an owner
	// missing from it is new and needs no lookup in Pebble (most of an
	// append's cost for a stream of first-time members otherwise). It holds
	// from Open while the owners fit the cache, and ends when the cache
	// overflows.
	ownersComplete bool
	nameBuf        []byte // scratch owner key, guarded by appendMu
}

type memberState struct {
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
		db:         db,
		opts:       opts,
		wo:         pebble.NoSync,
		members:    make(map[uint32]*memberState),
		nonMember:  make(map[uint64]int64),
		ownerIDs:   make(map[string]uint32),
		ownerNames: make(map[uint32]string),
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
		// A store without meta must be empty.
		it, err := l.db.NewIter(nil)
		if err != nil {
			return err
		}
		nonEmpty := it.First()
		if err := errors.Join(it.Error(), it.Close()); err != nil {
			return err
		}
		if nonEmpty {
			return fmt.Errorf("%w: meta key missing in a non-empty store", ErrCorrupt)
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
		l.ownerIDs[string(k[1:])] = binary.BigEndian.Uint32(v)
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

// chainHasher computes a batch's link in the hash chain:
// sha256(prev hash || position || first seq || count || for each block:
// first seq || len || value).
type chainHasher struct {
	h   hash.Hash
	buf [8]byte
}

func newChainHasher(prev [32]byte, pos, firstSeq, count uint64) *chainHasher {
	c := &chainHasher{h: sha256.New()}
	c.h.Write(prev[:])
	c.u64(pos)
	c.u64(firstSeq)
	c.u64(count)
	return c
}

func (c *chainHasher) u64(v uint64) {
	binary.BigEndian.PutUint64(c.buf[:], v)
	c.h.Write(c.buf[:])
}

func (c *chainHasher) block(firstSeq uint64, v []byte) {
	c.u64(firstSeq)
	c.u64(uint64(len(v)))
	c.h.Write(v)
}

func (c *chainHasher) sum() (s [32]byte) {
	c.h.Sum(s[:0])
	return s
}

// Append writes the entries of one engine batch, the position it brings the
// state to (must be > Position()) and the hash-chain link as ONE Pebble
// batch. It assigns entries[i].Seq (global, 1-based, consecutive). An empty
// entries slice records the position only. Invalid entries (points <= 0,
// malformed accounts, debit == credit) are rejected before anything is
// written. If the commit itself fails the handle refuses further appends:
// reopen and resume from Position()+1.
func (l *Ledger) Append(position uint64, entries []Entry) error {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	switch {
	case l.closed:
		return errors.New("ledger: closed")
	case l.opts.ReadOnly:
		return errors.New("ledger: read-only")
	case l.broken != nil:
		return fmt.Errorf("ledger: a previous append failed, reopen: %w", l.broken)
	case position <= l.meta.Position:
		return fmt.Errorf("ledger: append position %d <= current position %d", position, l.meta.Position)
	}
	for i := range entries {
		if err := entries[i].validate(); err != nil {
			return fmt.Errorf("ledger: append position %d entry %d: %w", position, i, err)
		}
	}
	if err := l.appendLocked(position, entries); err != nil {
		l.broken = err
		return fmt.Errorf("ledger: append position %d: %w", position, err)
	}
	return nil
}

func (l *Ledger) appendLocked(position uint64, entries []Entry) error {
	firstSeq := l.meta.LastSeq + 1
	count := uint64(len(entries))
	if len(l.members) > l.opts.MemberCacheSize {
		clear(l.members)
	}
	l.cmu.Lock()
	if len(l.ownerIDs) > l.opts.OwnerCacheSize {
		clear(l.ownerIDs)
		l.ownersComplete = false
	}
	if len(l.ownerNames) > l.opts.OwnerCacheSize {
		clear(l.ownerNames)
	}
	l.cmu.Unlock()

	b := l.db.NewBatchWithSize(len(entries)*80 + 256)
	defer b.Close()
	nextOwner := l.meta.NextOwnerID
	newOwners := map[string]uint32{}
	resolve := func(a Account) (uint64, error) {
		if a.Kind.IsOperator() {
			return acctCode(0, a.Kind), nil
		}
		ns := nsOf(a.Kind)
		l.nameBuf = append(append(l.nameBuf[:0], ns), a.Owner...)
		if id, ok := newOwners[string(l.nameBuf)]; ok {
			return acctCode(id, a.Kind), nil
		}
		l.cmu.Lock()
		id, ok := l.ownerIDs[string(l.nameBuf)]
		complete := l.ownersComplete
		l.cmu.Unlock()
		if ok {
			return acctCode(id, a.Kind), nil
		}
		name := string(l.nameBuf)
		if !complete {
			id, ok, err := lookupOwnerDB(l.db, ns, a.Owner)
			if err != nil {
				return 0, err
			}
			if ok {
				l.cacheOwner(name, id)
				return acctCode(id, a.Kind), nil
			}
		}
		if nextOwner == ^uint32(0) {
			return 0, errors.New("owner id space exhausted")
		}
		id = nextOwner
		nextOwner++
		newOwners[name] = id
		if err := b.Set(ownerIDKey(ns, a.Owner), binary.BigEndian.AppendUint32(nil, id), nil); err != nil {
			return 0, err
		}
		if err := b.Set(idOwnerKey(id), []byte(name), nil); err != nil {
			return 0, err
		}
		if ns == nsMember {
			l.members[id] = &memberState{} // brand new: nothing stored to load
		}
		return acctCode(id, a.Kind), nil
	}

	raws := l.raws[:0]
	for i := range entries {
		e := &entries[i]
		d, err := resolve(e.Debit)
		if err != nil {
			return err
		}
		c, err := resolve(e.Credit)
		if err != nil {
			return err
		}
		raws = append(raws, rawEntry{Seq: firstSeq + uint64(i), AtMS: e.AtMS, CommandID: e.CommandID,
			Kind: e.Kind, Debit: d, Credit: c, Points: e.Points})
	}
	l.raws = raws[:0]

	// Entry blocks, day index and the hash chain.
	ch := newChainHasher(l.meta.Hash, position, firstSeq, count)
	var days []int64
	for start := 0; start < len(raws); start += blockEntries {
		end := min(start+blockEntries, len(raws))
		blk := raws[start:end]
		l.valBuf = encodeBlock(l.valBuf[:0], blk)
		if err := b.Set(blockKey(blk[0].Seq), l.valBuf, nil); err != nil {
			return err
		}
		ch.block(blk[0].Seq, l.valBuf)
		days = days[:0]
		for i := range blk {
			d := dayOf(blk[i].AtMS)
			seen := false
			for _, x := range days {
				if x == d {
					seen = true
					break
				}
			}
			if !seen && len(days) < blockEntries {
				days = append(days, d)
				if err := b.Set(dayKey(d, blk[0].Seq), nil, nil); err != nil {
					return err
				}
			}
		}
	}

	// Member index with running balances; partner/operator balances.
	var ixIter *pebble.Iterator
	defer func() {
		if ixIter != nil {
			ixIter.Close()
		}
	}()
	member := func(id uint32) (*memberState, error) {
		if ms, ok := l.members[id]; ok {
			return ms, nil
		}
		if ixIter == nil {
			var err error
			ixIter, err = l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{pMemberIx}, UpperBound: []byte{pMemberIx + 1}})
			if err != nil {
				return nil, err
			}
		}
		ms := &memberState{}
		lo, hi := memberIxBounds(id)
		if ixIter.SeekLT(hi) && bytes.HasPrefix(ixIter.Key(), lo) {
			m, err := decodeMemberIx(ixIter.Value())
			if err != nil {
				return nil, fmt.Errorf("%w: member index %x: %v", ErrCorrupt, ixIter.Key(), err)
			}
			*ms = memberState{has: true, maxAtMS: m.MaxAtMS, available: m.Available, pending: m.Pending, held: m.Held}
		} else if err := ixIter.Error(); err != nil {
			return nil, err
		}
		l.members[id] = ms
		return ms, nil
	}
	touched := map[uint64]struct{}{}
	var kbuf []byte
	for i := range raws {
		e := &raws[i]
		dk, ck := codeKind(e.Debit), codeKind(e.Credit)
		ids, n := entryMembers(e)
		for j := 0; j < n; j++ {
			ms, err := member(ids[j])
			if err != nil {
				return err
			}
			if codeKind(e.Debit).IsMember() && codeOwner(e.Debit) == ids[j] {
				ms.add(dk, e.Points)
			}
			if codeKind(e.Credit).IsMember() && codeOwner(e.Credit) == ids[j] {
				ms.add(ck, -e.Points)
			}
			if !ms.has || e.AtMS > ms.maxAtMS {
				ms.maxAtMS = e.AtMS
			}
			ms.has = true
			ix := memberIx{AtMS: e.AtMS, MaxAtMS: ms.maxAtMS, Available: ms.available, Pending: ms.pending, Held: ms.held}
			kbuf = memberIxKey(kbuf[:0], ids[j], e.Seq)
			l.valBuf = ix.encode(l.valBuf[:0])
			if err := b.Set(kbuf, l.valBuf, nil); err != nil {
				return err
			}
		}
		if !dk.IsMember() {
			l.nonMember[e.Debit] += e.Points
			touched[e.Debit] = struct{}{}
		}
		if !ck.IsMember() {
			l.nonMember[e.Credit] -= e.Points
			touched[e.Credit] = struct{}{}
		}
	}
	for code := range touched {
		if err := b.Set(balanceKey(code), binary.AppendUvarint(nil, zig(l.nonMember[code])), nil); err != nil {
			return err
		}
	}

	// Command index: one key per run of consecutive entries of a command.
	for i := 0; i < len(raws); {
		j := i + 1
		for j < len(raws) && raws[j].CommandID == raws[i].CommandID {
			j++
		}
		if err := b.Set(commandKey(raws[i].CommandID, raws[i].Seq), binary.AppendUvarint(nil, uint64(j-i)), nil); err != nil {
			return err
		}
		i = j
	}

	rec := batchRec{FirstSeq: firstSeq, Count: count, Hash: ch.sum()}
	if err := b.Set(batchKey(position), rec.encode(), nil); err != nil {
		return err
	}
	nm := l.meta
	nm.Position = position
	nm.LastSeq = firstSeq + count - 1
	nm.Batches++
	nm.NextOwnerID = nextOwner
	nm.Hash = rec.Hash
	if err := b.Set(metaKey, nm.encode(), nil); err != nil {
		return err
	}
	if err := b.Commit(l.wo); err != nil {
		return err
	}

	// Assertions after the write.
	if nm.LastSeq != l.meta.LastSeq+count || nm.Position <= l.meta.Position || nm.NextOwnerID < l.meta.NextOwnerID {
		panic(fmt.Sprintf("ledger: invariant broken after append: %+v -> %+v", l.meta, nm))
	}
	l.meta = nm
	for i := range entries {
		entries[i].Seq = firstSeq + uint64(i)
	}
	for name, id := range newOwners {
		l.cacheOwner(name, id)
	}
	l.lastSeq.Store(nm.LastSeq)
	l.position.Store(nm.Position)
	return nil
}

func (ms *memberState) add(k AccountKind, pts int64) {
	switch k {
	case AccountMemberAvailable:
		ms.available += pts
	case AccountMemberPending:
		ms.pending += pts
	case AccountMemberHeld:
		ms.held += pts
	}
}

func (l *Ledger) cacheOwner(nsName string, id uint32) {
	l.cmu.Lock()
	if len(l.ownerIDs) < l.opts.OwnerCacheSize {
		l.ownerIDs[nsName] = id
	} else {
		l.ownersComplete = false
	}
	if len(l.ownerNames) < l.opts.OwnerCacheSize {
		l.ownerNames[id] = nsName
	}
	l.cmu.Unlock()
}

func lookupOwnerDB(r pebble.Reader, ns byte, name string) (uint32, bool, error) {
	v, c, err := r.Get(ownerIDKey(ns, name))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	defer c.Close()
	if len(v) != 4 {
		return 0, false, fmt.Errorf("%w: owner key %q: bad value", ErrCorrupt, name)
	}
	return binary.BigEndian.Uint32(v), true, nil
}

// entryMembers returns the distinct members an entry touches (0, 1 or 2):
// the members whose index gets the entry, in Append and in Verify alike.
func entryMembers(e *rawEntry) ([2]uint32, int) {
	var ids [2]uint32
	n := 0
	if codeKind(e.Debit).IsMember() {
		ids[n] = codeOwner(e.Debit)
		n++
	}
	if codeKind(e.Credit).IsMember() && (n == 0 || ids[0] != codeOwner(e.Credit)) {
		ids[n] = codeOwner(e.Credit)
		n++
	}
	return ids, n
}
