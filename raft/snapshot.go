package raft

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
	"github.com/accrual/accrual/raft/crashpoint"
	"github.com/cockroachdb/pebble/v2"
	hraft "github.com/hashicorp/raft"
	"github.com/klauspost/compress/zstd"
)

// Snapshot format (one zstd stream):
//
//	magic "ACRS1\n", uvarint applied index, uvarint node count,
//	per node: uvarint len, id, uvarint len, HTTP address,
//	the consumed stream offsets (ingest.go, appendOffsets),
//	then the engine's own snapshot stream to the end.
//
// Snapshots of the first format (snapMagicV1) have no offsets section.
const (
	snapMagic   = "ACRS2\n"
	snapMagicV1 = "ACRS1\n"
)

// spoolPattern names the file a snapshot is written to under the apply
// lock, in the directory of the snapshot store, until Persist has copied
// it into the store (removeStale deletes those a crash left behind).
const spoolPattern = "state-*.tmp"

// Snapshot captures the state at the applied index. It streams the engine
// (Engine.Snapshot) uncompressed into a spool file under the apply lock,
// the engine having no copy-on-write: the state is never held twice in
// memory, only the page cache holds what was written. The pause is the
// serialisation alone (no compression); Persist compresses the file into
// the snapshot store off the apply path.
func (f *fsm) Snapshot() (hraft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lw.drain() // the ledger must cover what the snapshot does (Persist syncs it)
	spool, err := os.CreateTemp(f.spoolDir, spoolPattern)
	if err != nil {
		return nil, fmt.Errorf("raft: snapshot spool: %w", err)
	}
	if err := f.writeState(spool); err != nil {
		closeTemp(spool)
		return nil, fmt.Errorf("raft: snapshot spool %s: %w", spool.Name(), err)
	}
	return &fsmSnapshot{spool: spool, led: f.led, markLocal: f.markLocal}, nil
}

// writeState writes the snapshot's header and the engine's stream to w
// (under the apply lock). Engine.Snapshot buffers its own writes.
func (f *fsm) writeState(w io.Writer) error {
	hdr := []byte(snapMagic)
	hdr = binary.AppendUvarint(hdr, f.applied.Load())
	f.nodesMu.RLock()
	hdr = binary.AppendUvarint(hdr, uint64(len(f.nodes)))
	for id, http := range f.nodes {
		hdr = append(hdr, encodeRegister(id, http)[1:]...)
	}
	f.nodesMu.RUnlock()
	hdr = f.appendOffsets(hdr)
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	if err := f.eng.Snapshot(&crashOnFirstWrite{Writer: w}); err != nil {
		return fmt.Errorf("engine snapshot: %w", err)
	}
	return nil
}

// crashOnFirstWrite reaches the snapshot-write crash point after its first
// write: a kill there leaves a spool file holding part of the engine.
type crashOnFirstWrite struct {
	io.Writer
	wrote bool
}

func (w *crashOnFirstWrite) Write(p []byte) (int, error) {
	n, err := w.Writer.Write(p)
	if !w.wrote {
		w.wrote = true
		crashpoint.At(crashpoint.SnapshotWrite)
	}
	return n, err
}

type fsmSnapshot struct {
	spool     *os.File // the uncompressed state, removed by Release
	led       *ledger.Ledger
	markLocal func(id string) // shippingStore.markLocal; nil in FSM-only tests
}

// Persist first makes the ledger durable up to the snapshot's index (its
// writes are NoSync): after a crash the ledger's position is never below
// the latest snapshot, so the entries the snapshot covers are never lost.
// Then it compresses the spool file into the sink, a block at a time.
func (s *fsmSnapshot) Persist(sink hraft.SnapshotSink) error {
	if s.markLocal != nil {
		s.markLocal(sink.ID())
	}
	err := s.led.DB().LogData(nil, pebble.Sync)
	if err == nil {
		_, err = s.spool.Seek(0, io.SeekStart)
	}
	if err == nil {
		var zw *zstd.Encoder
		zw, err = zstd.NewWriter(sink, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if err == nil {
			_, err = zw.ReadFrom(s.spool)
			crashpoint.At(crashpoint.SnapshotPersist)
			err = errors.Join(err, zw.Close())
		}
	}
	if err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

// Release removes the spool file (hraft calls it once Persist returned).
func (s *fsmSnapshot) Release() {
	if s.spool != nil {
		closeTemp(s.spool)
		s.spool = nil
	}
}

// Restore replaces the state with a snapshot: on start-up (the latest local
// snapshot) or when the leader installs one. It holds the apply lock while
// it decodes, after dropping the state it replaces (dropState), so that a
// follower never holds two engines: readers of the engine wait, readers of
// the published views see the old state until the new one is in place.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	zr, err := zstd.NewReader(rc, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(64<<20))
	if err != nil {
		return err
	}
	defer zr.Close()
	br := bufio.NewReaderSize(zr, 1<<16)
	hdr, err := readSnapshotHeader(br)
	if err != nil {
		return err
	}
	// The pager's lock first, as MemberPage takes them: dropState
	// forgets its order.
	if f.pager != nil {
		f.pager.mu.Lock()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	dropped := f.dropState()
	if f.pager != nil {
		f.pager.mu.Unlock()
	}
	// engine.Restore reads through br itself (a *bufio.Reader of 64 KiB is
	// used as is), so br is left right after the engine's stream, where a
	// ledger section may follow.
	eng, err := engine.Restore(br)
	if err != nil {
		err = fmt.Errorf("raft: snapshot: engine: %w", err)
		if dropped {
			// The state this node held is gone: it must not apply or answer
			// from the empty placeholder; a restart restores its latest
			// local snapshot.
			f.fatal.Store(&err)
		}
		return err
	}
	crashpoint.At(crashpoint.SnapshotInstall)
	return f.install(eng, hdr, br, dropped)
}

// dropState replaces a non-empty engine by an empty one of the same
// program, forgets the member pager's order (its ids are the engine's
// strings) and collects, so that the engine being decoded can reuse the
// old one's memory: a follower's peak while installing stays near one
// state, not two. Called with f.mu and the pager's lock held; reports
// whether it dropped.
func (f *fsm) dropState() bool {
	if f.eng.Members() == 0 {
		return false // start-up: nothing to free
	}
	f.eng = newEngine(f.eng.Program())
	f.step.SetEngine(f.eng)
	if f.pager != nil {
		f.pager.forget()
	}
	runtime.GC() // marks only what is live: cheap once the state is dropped
	return true
}

// install makes eng, decoded from a snapshot with header hdr, the state,
// then brings the ledger to the snapshot's index from br and publishes
// every member's view. When a state was dropped, its views are collected
// before the new ones are built, as its engine was before the decode.
// Called with f.mu held.
func (f *fsm) install(eng *engine.Engine, hdr snapHeader, br *bufio.Reader, dropped bool) error {
	f.eng = eng
	f.step.SetEngine(eng)
	if f.observer != nil {
		f.observer.Reset()
	}
	clear(f.seen)
	f.gen = 0
	f.nodesMu.Lock()
	f.nodes = hdr.nodes
	f.nodesMu.Unlock()
	f.offsetsMu.Lock()
	f.offsets = hdr.offsets
	f.offsetsMu.Unlock()
	f.lw.drain()
	if err := f.restoreLedger(br, hdr.index); err != nil {
		return err
	}
	if f.logObs != nil {
		f.logObs.Restored(hdr.index)
	}
	f.republishAll(dropped)
	f.clockMS.Store(eng.ClockMS())
	f.applied.Store(hdr.index)
	f.notify.broadcast()
	return nil
}

// snapHeader is what a snapshot holds before the engine's stream.
type snapHeader struct {
	index   uint64
	nodes   map[string]string
	offsets map[partitionKey]int64
}

func readSnapshotHeader(br *bufio.Reader) (snapHeader, error) {
	magic := make([]byte, len(snapMagic))
	if _, err := io.ReadFull(br, magic); err != nil || (string(magic) != snapMagic && string(magic) != snapMagicV1) {
		return snapHeader{}, fmt.Errorf("raft: snapshot: bad magic (%v)", err)
	}
	index, err := binary.ReadUvarint(br)
	if err != nil {
		return snapHeader{}, fmt.Errorf("raft: snapshot: %w", err)
	}
	nn, err := binary.ReadUvarint(br)
	if err != nil || nn > 1<<16 {
		return snapHeader{}, fmt.Errorf("raft: snapshot: bad node count (%v)", err)
	}
	nodes := make(map[string]string, nn)
	for range nn {
		var s [2]string
		for i := range s {
			l, err := binary.ReadUvarint(br)
			if err != nil || l > 1<<16 {
				return snapHeader{}, fmt.Errorf("raft: snapshot: bad node entry (%v)", err)
			}
			b := make([]byte, l)
			if _, err := io.ReadFull(br, b); err != nil {
				return snapHeader{}, fmt.Errorf("raft: snapshot: %w", err)
			}
			s[i] = string(b)
		}
		nodes[s[0]] = s[1]
	}
	offsets := map[partitionKey]int64{}
	if string(magic) == snapMagic {
		if offsets, err = readOffsets(br); err != nil {
			return snapHeader{}, err
		}
	}
	return snapHeader{index: index, nodes: nodes, offsets: offsets}, nil
}
