package raft

// The background scrub. Pebble checks a block's CRC only when it reads the
// block from disk, so a table block nothing reads (old history in the
// ledger) can be damaged for months before a statement or a snapshot sent
// to a follower meets it, by which time the other replicas may be gone
// too. The scrub reads every block of every live sstable of both stores
// (the ledger and the Raft log), straight from the file (not through
// Pebble's block cache), one pass after another, at a bounded rate, and
// treats a failed checksum as the node treats damaged data it must apply:
// the node stops, naming the file (docs/RELIABILITY.md, "Corrupted
// disks"). It runs on its own goroutine and takes no lock of the apply
// path: Pebble's table list is a consistent view, and the files it names
// are read through their own file handles.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/hashicorp/go-hclog"
)

// DefaultScrubBytesPerS bounds the scrub's reads: 4 MiB/s goes over a
// 10 GiB data directory in about 45 minutes, so a damaged block is found
// within the hour, while taking a small share of any disk's bandwidth
// and of one core (each block is read, its CRC32C checked and the block
// decompressed: docs/RELIABILITY.md, "Corrupted disks", gives the cost).
const DefaultScrubBytesPerS = 4 << 20

// scrubMinPass is the shortest time between the starts of two passes, and
// the wait before the first: a small store is not re-read in a loop, and
// a node that just started (its Raft log read whole by Open) catches up
// first.
const scrubMinPass = time.Minute

// scrubMinSleep: the scrub sleeps once it is this far ahead of its rate,
// not after every block (a 16 KiB block at 4 MiB/s is 4 ms).
const scrubMinSleep = 50 * time.Millisecond

// errScrubStopped ends a pass when the node closes.
var errScrubStopped = errors.New("raft: scrub stopped")

// scrubStore is one Pebble store the scrub walks.
type scrubStore struct {
	dir string
	db  *pebble.DB
}

// scrubber scrubs a node's stores; one goroutine runs it.
type scrubber struct {
	stores   []scrubStore
	nodeID   string
	log      hclog.Logger
	onDamage func(*CorruptDataError)
	pace     pacer

	passes  atomic.Uint64 // full passes completed
	damaged atomic.Uint64 // tables found damaged
	bytes   atomic.Uint64 // bytes read from table files
}

// ScrubStatus is the scrub's counters since the node opened.
type ScrubStatus struct {
	BytesPerS     int64  // the rate bound; 0: the scrub is off
	Passes        uint64 // full passes over both stores
	DamagedTables uint64 // tables whose checksum failed
	Bytes         uint64 // bytes read from table files
}

// Scrub returns the scrub's counters.
func (n *Node) Scrub() ScrubStatus {
	s := n.scrub
	return ScrubStatus{BytesPerS: int64(s.pace.bytesPerS), Passes: s.passes.Load(), DamagedTables: s.damaged.Load(), Bytes: s.bytes.Load()}
}

// newScrubber scrubs the node's ledger and Raft log at bytesPerS (<= 0:
// unpaced, for a pass run now), sleeping with sleep.
func (n *Node) newScrubber(bytesPerS int64, sleep func(time.Duration) bool) *scrubber {
	onDamage := n.cfg.OnCorruptData
	if onDamage == nil {
		onDamage = func(e *CorruptDataError) { panic(e.Error()) } // as the apply path does on damaged data
	}
	return &scrubber{
		stores: []scrubStore{
			{dir: filepath.Join(n.cfg.DataDir, "ledger"), db: n.led.DB()},
			{dir: filepath.Join(n.cfg.DataDir, "raft"), db: n.logs.DB()},
		},
		nodeID: n.cfg.NodeID, log: n.cfg.Logger.Named("scrub"), onDamage: onDamage,
		pace: pacer{bytesPerS: float64(max(bytesPerS, 0)), now: time.Now, sleep: sleep},
	}
}

// startScrub makes the node's scrubber and, unless it is off, its
// goroutine.
func (n *Node) startScrub() {
	n.scrub = n.newScrubber(n.cfg.ScrubBytesPerS, sleepUntil(n.stop))
	if n.cfg.ScrubBytesPerS <= 0 {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.scrub.run()
	}()
}

// run makes passes until stop is closed, at most one per scrubMinPass.
func (s *scrubber) run() {
	if !s.pace.sleep(scrubMinPass) {
		return
	}
	for {
		start := s.pace.now()
		_, err := s.pass()
		if errors.Is(err, errScrubStopped) {
			return
		}
		if err != nil {
			s.log.Warn("scrub: a pass ended early; the next one starts on time", "error", err)
		}
		if wait := scrubMinPass - s.pace.now().Sub(start); wait > 0 && !s.pace.sleep(wait) {
			return
		}
	}
}

// scrubPass is what one pass read.
type scrubPass struct {
	tables  int
	bytes   uint64
	damaged []string // the damaged tables' paths
}

// pass reads every live table of both stores once. A damaged table is
// logged, counted and handed to onDamage; the pass goes on to the others.
func (s *scrubber) pass() (scrubPass, error) {
	var p scrubPass
	before := s.bytes.Load()
	for _, st := range s.stores {
		tables, err := liveTables(st)
		if err != nil {
			return p, err
		}
		for _, t := range tables {
			path := t.path
			err := s.checkTable(t)
			switch {
			case errors.Is(err, errScrubStopped):
				return p, err
			case pebble.IsCorruptionError(err):
				p.damaged = append(p.damaged, path)
				s.damaged.Add(1)
				e := &CorruptDataError{File: path, Err: err, Remedy: rejoinRemedy(s.nodeID)}
				s.log.Error("scrub: a table failed its checksum; the node stops", "file", path, "error", e)
				s.onDamage(e)
			case err != nil:
				s.log.Warn("scrub: cannot read a table", "file", path, "error", err)
			}
			p.tables++
		}
	}
	p.bytes = s.bytes.Load() - before
	s.passes.Add(1)
	return p, nil
}

// scrubTable is a live table and how to read it.
type scrubTable struct {
	path string
	// opts name the table's number (for Pebble's messages) and no block
	// cache: every block is read from the file.
	opts sstable.ReaderOptions
}

// liveTables lists the store's sstables (a table shared by virtual tables
// once).
func liveTables(st scrubStore) ([]scrubTable, error) {
	levels, err := st.db.SSTables()
	if err != nil {
		return nil, fmt.Errorf("raft: scrub: list the tables of %s: %w", st.dir, err)
	}
	seen := map[string]bool{}
	var tables []scrubTable
	for _, level := range levels {
		for _, t := range level {
			path := filepath.Join(st.dir, t.BackingSSTNum.String()+".sst")
			if t.BackingType != pebble.BackingTypeLocal || seen[path] {
				continue
			}
			seen[path] = true
			tt := scrubTable{path: path}
			tt.opts.CacheOpts.FileNum = t.BackingSSTNum
			tables = append(tables, tt)
		}
	}
	return tables, nil
}

// checkTable reads every block of the table at path and checks its
// checksum. A table deleted since the listing (a compaction replaced it)
// is skipped.
func (s *scrubber) checkTable(t scrubTable) error {
	f, err := vfs.Default.Open(t.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	readable, err := sstable.NewSimpleReadable(pacedFile{File: f, s: s})
	if err != nil {
		f.Close()
		return err
	}
	r, err := sstable.NewReader(context.Background(), readable, t.opts)
	if err != nil {
		readable.Close()
		return err
	}
	return errors.Join(r.ValidateBlockChecksums(), r.Close())
}

// pacedFile counts and paces the scrub's reads of one table.
type pacedFile struct {
	vfs.File
	s *scrubber
}

func (f pacedFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.File.ReadAt(p, off)
	f.s.bytes.Add(uint64(n))
	if perr := f.s.pace.paid(n); perr != nil {
		return n, perr
	}
	return n, err
}

// pacer keeps the scrub's reads under bytesPerS on average, over any span
// longer than scrubMinSleep: each read moves the earliest time of the next
// one by its size over the rate, and the scrub sleeps when that time is
// scrubMinSleep or more ahead. Time spent reading counts, but is not
// saved up: after a slow read the scrub goes on at the rate, no faster.
type pacer struct {
	bytesPerS float64 // 0: unpaced
	now       func() time.Time
	sleep     func(time.Duration) bool // false: the node is closing
	next      time.Time
}

// paid accounts n bytes read, sleeping when ahead of the rate.
func (p *pacer) paid(n int) error {
	if p.bytesPerS <= 0 {
		return nil
	}
	now := p.now()
	if p.next.Before(now) {
		p.next = now
	}
	p.next = p.next.Add(time.Duration(float64(n) / p.bytesPerS * float64(time.Second)))
	if ahead := p.next.Sub(now); ahead >= scrubMinSleep && !p.sleep(ahead) {
		return errScrubStopped
	}
	return nil
}

// sleepUntil sleeps for d, or until stop is closed (false).
func sleepUntil(stop <-chan struct{}) func(time.Duration) bool {
	return func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-stop:
			return false
		}
	}
}
