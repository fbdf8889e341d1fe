package raft

import (
	"context"
)

// The change feed (GET /v1/changes) reads the node's ledger directly
// (ledger.Ledger.Changes): every entry in it is committed, and its seqs and
// contents are the same on every replica (ledger.VerifySummary.Digest
// compares them), so any replica serves the same feed. The one thing the
// feed needs from the node is to wait for the ledger to grow.

// WaitLedger returns nil once the ledger holds an entry with a seq greater
// than afterSeq; it returns ctx's error when ctx ends first, ErrClosed when
// the node closes, and the ledger's error when its writer has failed (the
// node must then be restarted). It wakes on each append of the ledger
// writer, and on each move of the applied index (a snapshot restored on a
// follower imports the entries it skipped without an append); it never
// holds up the apply path.
func (n *Node) WaitLedger(ctx context.Context, afterSeq uint64) error {
	w := n.fsm.lw
	for {
		ch, applied := w.wrote.wait(), n.fsm.notify.wait()
		if n.led.LastSeq() > afterSeq {
			return nil
		}
		if err := w.fatal.Load(); err != nil {
			return *err
		}
		select {
		case <-ch:
		case <-applied:
		case <-ctx.Done():
			return ctx.Err()
		case <-n.stop:
			return ErrClosed
		}
	}
}
