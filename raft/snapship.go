package raft

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	hraft "github.com/hashicorp/raft"
	"github.com/klauspost/compress/zstd"

	"github.com/accrual/accrual/ledger"
)

// ledgerSection marks the ledger's entries after the engine's stream in a
// snapshot sent to a follower (see shippingStore).
const ledgerSection = 'L'

// shippingStore is the file snapshot store, except that a snapshot opened
// to be sent (hraft opens one on the leader for a follower that fell
// behind the log) carries the ledger's entries up to the snapshot's index after
// the engine's state, as a second zstd stream. Without them the follower
// could rebuild its balances from the snapshot but never the ledger
// entries of the commands it skipped. Snapshots persisted locally stay
// engine-only: a node's own restart replays its own ledger. A snapshot a
// follower installs keeps the leader's section in its file, and is marked
// so (installMark, written by installSink before the snapshot becomes
// visible): a follower killed before its ledger had imported the section
// finishes the import when it restarts from that snapshot, and
// checkLedgerCovers knows that such a snapshot brings its own ledger.
//
// hraft opens a snapshot for two things only: to send it, and to restore
// it (at start, inside NewRaft, and right after installing one). So every
// Open is a send except those before the node's Raft exists (started) and
// the first after an install (restoring); asking whether the node is the
// leader instead would send a snapshot opened as it steps down without its
// section, and the follower would have to stop (restoreLedger).
//
// The section holds the whole ledger (hraft does not tell the leader how
// far the follower's ledger goes); the follower skips what it has (by
// seq) and appends the rest. Sending costs a read of the leader's ledger
// into a temporary file next to the snapshots.
type shippingStore struct {
	*hraft.FileSnapshotStore
	dir       string
	led       *ledger.Ledger
	started   func() bool // the node's Raft exists: NewRaft's restore is over
	local     sync.Map    // ids of the sinks this node's FSM persists into (engine-only)
	restoring sync.Map    // ids installed from a leader, not yet opened for their restore
}

// installMark is the file, in a snapshot's directory, that says the
// snapshot was installed from a leader and carries its ledger section.
const installMark = "ledger-section"

// Create opens a sink for a new snapshot: one this node's FSM persists
// (fsmSnapshot.Persist tells markLocal), or a leader's being installed.
func (s *shippingStore) Create(version hraft.SnapshotVersion, index, term uint64, configuration hraft.Configuration,
	configurationIndex uint64, trans hraft.Transport) (hraft.SnapshotSink, error) {
	sink, err := s.FileSnapshotStore.Create(version, index, term, configuration, configurationIndex, trans)
	if err != nil {
		return nil, err
	}
	return &installSink{SnapshotSink: sink, store: s}, nil
}

// markLocal records that the sink with this id holds a snapshot of this
// node's own state.
func (s *shippingStore) markLocal(id string) { s.local.Store(id, true) }

// installSink marks an installed snapshot (installMark) in the store's
// temporary directory, which Close renames into place with the snapshot.
type installSink struct {
	hraft.SnapshotSink
	store  *shippingStore
	closed bool // Persist closes its sink, and hraft closes it again
}

func (k *installSink) Close() error {
	if k.closed {
		return k.SnapshotSink.Close()
	}
	k.closed = true
	_, local := k.store.local.LoadAndDelete(k.ID())
	if !local {
		// hraft's FileSnapshotStore writes a snapshot into <id>.tmp and
		// renames it on Close.
		mark := filepath.Join(k.store.dir, "snapshots", k.ID()+".tmp", installMark)
		if err := os.WriteFile(mark, nil, 0o600); err != nil {
			_ = k.SnapshotSink.Cancel()
			return fmt.Errorf("raft: snapshot %s: %w", k.ID(), err)
		}
	}
	err := k.SnapshotSink.Close()
	if err == nil && !local {
		k.store.restoring.Store(k.ID(), true) // hraft restores it next
	}
	return err
}

func (k *installSink) Cancel() error {
	k.store.local.Delete(k.ID())
	return k.SnapshotSink.Cancel()
}

// Open opens a snapshot to restore it (as stored) or to send it (with the
// ledger section).
func (s *shippingStore) Open(id string) (*hraft.SnapshotMeta, io.ReadCloser, error) {
	if _, restore := s.restoring.LoadAndDelete(id); restore || !s.started() {
		return s.FileSnapshotStore.Open(id)
	}
	return s.openWithLedger(id)
}

// openWithLedger opens a snapshot with its ledger section (the leader's
// send, or a backup).
func (s *shippingStore) openWithLedger(id string) (*hraft.SnapshotMeta, io.ReadCloser, error) {
	meta, rc, err := s.FileSnapshotStore.Open(id)
	if err != nil {
		return meta, rc, err
	}
	tmp, err := s.writeSection(meta.Index)
	if err != nil {
		rc.Close()
		return nil, nil, fmt.Errorf("raft: snapshot %s: ledger section: %w", id, err)
	}
	st, err := tmp.Stat()
	if err != nil {
		rc.Close()
		closeTemp(tmp)
		return nil, nil, err
	}
	m := *meta
	m.Size += st.Size()
	return &m, &sectionReader{Reader: io.MultiReader(rc, tmp), snap: rc, tmp: tmp}, nil
}

// writeSection writes the marker and the ledger's entries up to index,
// zstd-compressed, into a temporary file, and rewinds it.
func (s *shippingStore) writeSection(index uint64) (*os.File, error) {
	tmp, err := os.CreateTemp(s.dir, "ledger-section-*.tmp")
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(tmp, 1<<16)
	zw, err := zstd.NewWriter(bw, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err == nil {
		if _, err = zw.Write([]byte{ledgerSection}); err == nil {
			_, err = s.led.Export(zw, index)
		}
		err = errors.Join(err, zw.Close(), bw.Flush())
	}
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		closeTemp(tmp)
		return nil, err
	}
	return tmp, nil
}

// removeStale removes the temporary files of sends and snapshots a crash
// interrupted.
func (s *shippingStore) removeStale() {
	for _, pattern := range []string{"ledger-section-*.tmp", spoolPattern} {
		old, _ := filepath.Glob(filepath.Join(s.dir, pattern))
		for _, p := range old {
			os.Remove(p)
		}
	}
}

func closeTemp(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}

type sectionReader struct {
	io.Reader
	snap io.Closer
	tmp  *os.File
}

func (r *sectionReader) Close() error {
	err := r.snap.Close()
	closeTemp(r.tmp)
	return err
}

// restoreLedger brings the ledger to a restored snapshot's index: it
// imports a ledger section when the snapshot carries one (br positioned
// right after the engine's stream), then records the index as the
// ledger's position. Called under the apply lock with the writer drained.
func (f *fsm) restoreLedger(br *bufio.Reader, index uint64) error {
	if f.fatal.Load() != nil {
		return nil
	}
	b, err := br.ReadByte()
	switch {
	case err == io.EOF:
	case err != nil:
		return fmt.Errorf("raft: snapshot: %w", err)
	case b != ledgerSection:
		return fmt.Errorf("raft: snapshot: unknown section %#x after the engine state", b)
	default:
		s, err := f.led.Import(br)
		if err != nil {
			err = fmt.Errorf("raft: snapshot at %d: %w", index, err)
			f.fatal.Store(&err)
			return err
		}
		if s.Appended > 0 {
			f.log.Info("ledger entries received with the snapshot", "appended", s.Appended, "skipped", s.Skipped, "last_seq", s.LastSeq)
		}
	}
	if pos := f.led.Position(); pos < index {
		if b != ledgerSection {
			// Not sent by a shippingStore (a leader always adds the section;
			// a local snapshot is never ahead of the ledger: checkLedgerCovers).
			// The entries and command records between the ledger's position
			// and the index never reach this node: it must not apply or
			// answer from this state, or a retry would be applied anew here.
			err := fmt.Errorf("raft: snapshot at %d installed without ledger entries over a ledger at %d: "+
				"this node lacks the entries and command records between them; rejoin it as a new member "+
				`(docs/RELIABILITY.md, "A node that lost its data")`, index, pos)
			f.log.Error("ledger gap", "err", err)
			f.fatal.Store(&err)
			return err
		}
		// Every entry up to the index is here otherwise; the logs after the
		// leader's last ledger batch below the index wrote none.
		if err := f.led.Append(index, nil); err != nil {
			err = fmt.Errorf("raft: ledger append at %d: %w", index, err)
			f.fatal.Store(&err)
			return err
		}
	}
	f.lw.queued.Store(f.led.Position())
	f.lw.wrote.broadcast()
	return nil
}
