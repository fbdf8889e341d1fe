package raft

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/accrual/accrual/ledger"
)

// openSmallLedger opens a ledger with small caches, closed with the test.
func openSmallLedger(t *testing.T) *ledger.Ledger {
	t.Helper()
	led, err := ledger.Open(t.TempDir(), ledger.Options{CacheSize: 1 << 20, MemTableSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	return led
}

// A read waits for the batches handed to the ledger writer before it: a
// statement read right after an acknowledgement shows the write.
func TestAwaitPositionWaitsForHandedBatches(t *testing.T) {
	led := openSmallLedger(t)
	var fatal atomic.Pointer[error]
	// Built by hand, without its goroutine: nothing is written until run.
	w := &ledgerWriter{led: led, jobs: make(chan ledgerJob, ledgerDepth), free: make(chan ledgerBatch, ledgerDepth+2),
		done: make(chan struct{}), fatal: &fatal}
	w.submit(7, ledgerBatch{})

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.awaitPosition(cancelled, 7); !errors.Is(err, context.Canceled) {
		t.Fatalf("before the writer ran: %v, want it to keep waiting until its context ended", err)
	}
	go w.run()
	if err := w.awaitPosition(context.Background(), 7); err != nil {
		t.Fatal(err)
	}
	if got := led.Position(); got != 7 {
		t.Fatalf("position after the wait: %d, want 7", got)
	}
	w.close()
}

// A ledger that failed ends the wait with its error instead of a timeout.
func TestAwaitPositionReturnsTheLedgersFailure(t *testing.T) {
	led := openSmallLedger(t)
	var fatal atomic.Pointer[error]
	w := newLedgerWriter(led, &fatal)
	defer w.close()
	failed := errors.New("disk gone")
	fatal.Store(&failed)
	if err := w.awaitPosition(context.Background(), 3); !errors.Is(err, failed) {
		t.Fatalf("got %v, want the ledger's failure", err)
	}
}
