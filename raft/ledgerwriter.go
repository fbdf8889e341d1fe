package raft

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/accrual/accrual/ledger"
	"github.com/accrual/accrual/raft/crashpoint"
)

// ledgerDepth bounds the batches waiting for the ledger: when the writer
// falls that far behind, the apply path waits (memory stays bounded).
const ledgerDepth = 2

// ledgerWriter appends the ledger entries of applied batches on its own
// goroutine, so that the apply path (engine, read views, results) of one
// batch overlaps the ledger's Pebble writes of the one before: on two cores
// that is most of the gain there is. The ledger trails the applied index
// by at most ledgerDepth batches; it is rebuilt from the Raft log after a
// crash like before (the FSM re-emits entries above the ledger's position),
// and a snapshot drains the writer first, so the ledger never falls behind
// the latest snapshot.
type ledgerWriter struct {
	led    *ledger.Ledger
	jobs   chan ledgerJob
	free   chan ledgerBatch
	done   chan struct{}
	queued atomic.Uint64 // highest position handed to the writer
	fatal  *atomic.Pointer[error]
	wrote  notifier // broadcast after each append (and when it fails)
}

type ledgerJob struct {
	pos     uint64
	batch   ledgerBatch
	flushed chan struct{} // a drain marker when non-nil
}

// ledgerBatch is what one append writes: the entries of the applied logs
// and the command records they created or changed, whose bytes are in
// arena. The writer owns it once handed over, then recycles it.
type ledgerBatch struct {
	entries []ledger.Entry
	records []ledger.Record
	arena   []byte
}

func (b ledgerBatch) emptied() ledgerBatch {
	return ledgerBatch{entries: b.entries[:0], records: b.records[:0], arena: b.arena[:0]}
}

func newLedgerWriter(led *ledger.Ledger, fatal *atomic.Pointer[error]) *ledgerWriter {
	w := &ledgerWriter{
		led:   led,
		jobs:  make(chan ledgerJob, ledgerDepth),
		free:  make(chan ledgerBatch, ledgerDepth+2),
		done:  make(chan struct{}),
		fatal: fatal,
	}
	w.queued.Store(led.Position())
	go w.run()
	return w
}

func (w *ledgerWriter) run() {
	defer close(w.done)
	for j := range w.jobs {
		if j.flushed != nil {
			close(j.flushed)
			continue
		}
		if w.fatal.Load() == nil {
			crashpoint.At(crashpoint.LedgerAppend)
			if err := w.led.AppendWithRecords(j.pos, j.batch.entries, j.batch.records); err != nil {
				// The ledger refuses further appends after a failed commit;
				// the node must be restarted (it resumes from Position()+1).
				err = fmt.Errorf("raft: ledger append at %d: %w", j.pos, err)
				w.fatal.Store(&err)
			}
			w.wrote.broadcast()
		}
		select {
		case w.free <- j.batch.emptied():
		default:
		}
	}
}

// position is the highest ledger position written or on its way.
func (w *ledgerWriter) position() uint64 { return w.queued.Load() }

// submit hands over a batch (the writer owns it from now on) and returns
// an empty one for the next batch.
func (w *ledgerWriter) submit(pos uint64, batch ledgerBatch) ledgerBatch {
	w.queued.Store(pos)
	w.jobs <- ledgerJob{pos: pos, batch: batch}
	select {
	case b := <-w.free:
		return b
	default:
		return ledgerBatch{
			entries: make([]ledger.Entry, 0, cap(batch.entries)),
			records: make([]ledger.Record, 0, cap(batch.records)),
			arena:   make([]byte, 0, cap(batch.arena)),
		}
	}
}

// awaitPosition waits, without holding up the apply path, until the ledger
// is written up to pos, the ledger has failed, or ctx ends.
func (w *ledgerWriter) awaitPosition(ctx context.Context, pos uint64) error {
	for {
		ch := w.wrote.wait()
		if w.led.Position() >= pos {
			return nil
		}
		if err := w.fatal.Load(); err != nil {
			return *err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// drain waits until every batch handed over is written.
func (w *ledgerWriter) drain() {
	ch := make(chan struct{})
	w.jobs <- ledgerJob{flushed: ch}
	<-ch
}

// close drains and stops the writer.
func (w *ledgerWriter) close() {
	close(w.jobs)
	<-w.done
}
