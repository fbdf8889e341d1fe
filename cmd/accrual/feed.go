package main

import (
	"context"
	"time"

	"github.com/accrual/accrual/api"
	"github.com/accrual/accrual/api/wire"
	"github.com/accrual/accrual/ledger"
)

// The change feed (GET /v1/changes) from the node's ledger: any replica
// serves it, since every replica's ledger holds the same entries under the
// same seqs.

var _ api.FeedSource = nodeBackend{}

// LastSeq waits for the ledger to hold every applied log first, so a
// cursor this node's own reads (or the leader's acknowledged writes seen
// here) made possible is never "beyond the end".
func (b nodeBackend) LastSeq(ctx context.Context) (uint64, error) {
	led, err := b.n.CurrentLedger(ctx)
	if err != nil {
		return 0, mapNodeErr(err)
	}
	return led.LastSeq(), nil
}

func (b nodeBackend) Changes(after uint64, limit int, fn func(c *wire.Change) error) (int, error) {
	var wc wire.Change
	return b.n.Ledger().Changes(after, limit, func(c *ledger.Change) error {
		changeOf(&wc, c)
		return fn(&wc)
	})
}

func (b nodeBackend) WaitChanges(ctx context.Context, after uint64) error {
	return mapNodeErr(b.n.WaitLedger(ctx, after))
}

// changeOf fills dst (its Balances reused) from a ledger change.
func changeOf(dst *wire.Change, c *ledger.Change) {
	e := &c.Entry
	dst.Entry = wire.Entry{Seq: e.Seq, At: time.UnixMilli(e.AtMS).UTC().Format(entryTime), CommandID: e.CommandID,
		Kind: e.Kind.String(), Debit: e.Debit.String(), Credit: e.Credit.String(), Points: e.Points}
	dst.Balances = dst.Balances[:0]
	for _, m := range c.Members {
		dst.Balances = append(dst.Balances, wire.MemberBalance{Member: m.Member, Available: m.Available, Pending: m.Pending, Held: m.Held})
	}
}
