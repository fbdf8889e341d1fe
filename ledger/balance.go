package ledger

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/cockroachdb/pebble/v2"
)

// Balance is a member's balance.
type Balance struct{ Available, Pending, Held int64 }

// BalanceAt returns the member's balance counting the entries dated <= atMS.
// It walks the member index back from the newest entry only over entries
// that may be dated after atMS (the index keeps a running maximum of entry
// times and running balances), so a recent atMS costs a seek or a few.
func (l *Ledger) BalanceAt(member string, atMS int64) (available, pending, held int64, err error) {
	b, err := l.balance(member, func(it *pebble.Iterator, id uint32) (Balance, error) {
		var sum Balance
		if !it.Last() {
			return sum, it.Error()
		}
		cur, err := decodeIxAt(it)
		if err != nil {
			return sum, err
		}
		for {
			if cur.MaxAtMS <= atMS {
				return Balance{sum.Available + cur.Available, sum.Pending + cur.Pending, sum.Held + cur.Held}, nil
			}
			if !it.Prev() {
				if cur.AtMS <= atMS {
					sum = Balance{sum.Available + cur.Available, sum.Pending + cur.Pending, sum.Held + cur.Held}
				}
				return sum, it.Error()
			}
			prev, err := decodeIxAt(it)
			if err != nil {
				return sum, err
			}
			if cur.AtMS <= atMS { // add this entry's delta
				sum.Available += cur.Available - prev.Available
				sum.Pending += cur.Pending - prev.Pending
				sum.Held += cur.Held - prev.Held
			}
			cur = prev
		}
	})
	return b.Available, b.Pending, b.Held, err
}

// BalanceAtSeq returns the member's balance after the entries with
// seq <= asOfSeq: one seek.
func (l *Ledger) BalanceAtSeq(member string, asOfSeq uint64) (available, pending, held int64, err error) {
	b, err := l.balance(member, func(it *pebble.Iterator, id uint32) (Balance, error) {
		asOfSeq = min(asOfSeq, math.MaxUint64-1)
		if !it.SeekLT(memberIxKey(nil, id, asOfSeq+1)) {
			return Balance{}, it.Error()
		}
		m, err := decodeIxAt(it)
		return Balance{m.Available, m.Pending, m.Held}, err
	})
	return b.Available, b.Pending, b.Held, err
}

func decodeIxAt(it *pebble.Iterator) (memberIx, error) {
	m, err := decodeMemberIx(it.Value())
	if err != nil {
		return m, fmt.Errorf("%w: member index %x: %v", ErrCorrupt, it.Key(), err)
	}
	return m, nil
}

func (l *Ledger) balance(member string, fn func(it *pebble.Iterator, id uint32) (Balance, error)) (Balance, error) {
	id, ok, err := l.ownerID(l.db, nsMember, member)
	if err != nil {
		return Balance{}, err
	}
	if !ok {
		return Balance{}, ErrNotFound
	}
	lo, hi := memberIxBounds(id)
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return Balance{}, err
	}
	defer it.Close()
	return fn(it, id)
}

func scanBalances(r pebble.Reader, fn func(code uint64, bal int64) error) error {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: []byte{pBalance}, UpperBound: []byte{pBalance + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		u, n := binary.Uvarint(it.Value())
		if len(k) != 9 || n <= 0 || n != len(it.Value()) {
			return fmt.Errorf("%w: balance key %x", ErrCorrupt, k)
		}
		code := binary.BigEndian.Uint64(k[1:])
		if !validCode(code) || codeKind(code).IsMember() {
			return fmt.Errorf("%w: balance key %x: bad account", ErrCorrupt, k)
		}
		if err := fn(code, unzig(u)); err != nil {
			return err
		}
	}
	return it.Error()
}

// AccountBalances calls fn for every partner and operator account that has
// a balance key and, for every member, for its pending, available and held
// accounts (zeros included), from one consistent snapshot.
func (l *Ledger) AccountBalances(fn func(a Account, balance int64) error) error {
	snap := l.db.NewSnapshot()
	defer snap.Close()
	if err := scanBalances(snap, func(code uint64, bal int64) error {
		a, err := l.account(snap, code)
		if err != nil {
			return err
		}
		return fn(a, bal)
	}); err != nil {
		return err
	}
	owners, err := snap.NewIter(&pebble.IterOptions{LowerBound: []byte{pIDOwner}, UpperBound: []byte{pIDOwner + 1}})
	if err != nil {
		return err
	}
	defer owners.Close()
	ix, err := snap.NewIter(&pebble.IterOptions{LowerBound: []byte{pMemberIx}, UpperBound: []byte{pMemberIx + 1}})
	if err != nil {
		return err
	}
	defer ix.Close()
	for ok := owners.First(); ok; ok = owners.Next() {
		k, v := owners.Key(), owners.Value()
		if len(k) != 5 || len(v) < 2 {
			return fmt.Errorf("%w: owner key %x", ErrCorrupt, k)
		}
		if v[0] != nsMember {
			continue
		}
		id := binary.BigEndian.Uint32(k[1:])
		name := string(v[1:])
		lo, hi := memberIxBounds(id)
		var m memberIx
		if ix.SeekLT(hi) && bytes.HasPrefix(ix.Key(), lo) {
			if m, err = decodeIxAt(ix); err != nil {
				return err
			}
		} else if err := ix.Error(); err != nil {
			return err
		}
		for _, ab := range [...]struct {
			k AccountKind
			b int64
		}{{AccountMemberPending, m.Pending}, {AccountMemberAvailable, m.Available}, {AccountMemberHeld, m.Held}} {
			if err := fn(Account{Kind: ab.k, Owner: name}, ab.b); err != nil {
				return err
			}
		}
	}
	return owners.Error()
}
