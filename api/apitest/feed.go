package apitest

import (
	"context"

	"github.com/accrual/accrual/api"
	"github.com/accrual/accrual/api/wire"
)

// LastSeq is the seq of the newest kept entry.
func (m *Mem) LastSeq(context.Context) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return uint64(len(m.ledger)), m.err
}

// Changes sums every member's balance from the first entry (a test
// double's cost, O(entries) a call) and passes the entries after `after`.
func (m *Mem) Changes(after uint64, limit int, fn func(c *wire.Change) error) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return 0, m.err
	}
	bals := map[string]*wire.Balance{}
	sent := 0
	for i, e := range m.ledger {
		if uint64(i) >= after+uint64(limit) {
			break
		}
		c := wire.Change{Entry: m.entry(i), Balances: []wire.MemberBalance{}}
		for side := range 2 {
			acct, pts := e.Debit, e.Points
			if side == 1 {
				acct, pts = e.Credit, -e.Points
			}
			if !isMemberAcct(acct.Kind) {
				continue
			}
			owner := m.owners[i][side]
			if bals[owner] == nil {
				bals[owner] = &wire.Balance{}
			}
			addBalance(bals[owner], acct.Kind, pts)
			if len(c.Balances) == 0 || c.Balances[0].Member != owner {
				c.Balances = append(c.Balances, wire.MemberBalance{Member: owner})
			}
		}
		for j := range c.Balances {
			b := bals[c.Balances[j].Member]
			c.Balances[j].Available, c.Balances[j].Pending, c.Balances[j].Held = b.Available, b.Pending, b.Held
		}
		if uint64(i) < after {
			continue
		}
		if err := fn(&c); err != nil {
			return sent, err
		}
		sent++
	}
	return sent, nil
}

// WaitChanges waits for Submit to keep an entry after `after`.
func (m *Mem) WaitChanges(ctx context.Context, after uint64) error {
	for {
		m.mu.Lock()
		n, ch := uint64(len(m.ledger)), m.wrote
		m.mu.Unlock()
		if n > after {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

var _ api.FeedSource = (*Mem)(nil)
