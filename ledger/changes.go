package ledger

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// MemberBalance is a member's balance after an entry.
type MemberBalance struct {
	Member string
	Balance
}

// Change is one entry of the change feed: the entry and the balances,
// after it, of the members it touches.
type Change struct {
	Entry
	// Members holds one balance per member the entry touches (none for an
	// entry between partner and operator accounts, two for a transfer),
	// the debit's member first.
	Members []MemberBalance
}

// maxChanges bounds the entries one Changes call reads (one snapshot).
const maxChanges = 10_000

// Changes calls fn with the entries whose seq is greater than after, in
// seq order, at most limit of them (at most maxChanges), each with its
// members' balances after it, and returns how many it passed. It reads
// one snapshot and the entries written when it was taken: none when after
// is at or beyond LastSeq. The Change passed to fn is reused: fn must not
// keep it.
//
// The balances cost one point read per member the entry touches: the
// member index holds every member's running balances after each of its
// entries (key x <member> <seq>), so nothing is summed.
func (l *Ledger) Changes(after uint64, limit int, fn func(c *Change) error) (int, error) {
	last := l.lastSeq.Load() // before the snapshot: the snapshot holds at least this
	if after >= last || limit <= 0 {
		return 0, nil
	}
	n := min(last-after, uint64(min(limit, maxChanges)))
	snap := l.db.NewSnapshot()
	defer snap.Close()
	br, err := newBlockReader(snap)
	if err != nil {
		return 0, err
	}
	defer br.close()
	c := Change{Members: make([]MemberBalance, 0, 2)}
	var key [13]byte
	for seq := after + 1; seq <= after+n; seq++ {
		raw, err := br.get(seq)
		if err != nil {
			return int(seq - after - 1), err
		}
		if c.Entry, err = l.entry(snap, raw); err != nil {
			return int(seq - after - 1), err
		}
		ids, k := entryMembers(raw)
		c.Members = c.Members[:0]
		for _, id := range ids[:k] {
			mb, err := l.balanceAfter(snap, key[:0], id, seq)
			if err != nil {
				return int(seq - after - 1), err
			}
			c.Members = append(c.Members, mb)
		}
		if err := fn(&c); err != nil {
			return int(seq - after - 1), err
		}
	}
	return int(n), nil
}

// balanceAfter reads the member's running balances after entry seq from
// its member index key.
func (l *Ledger) balanceAfter(snap *pebble.Snapshot, key []byte, id uint32, seq uint64) (MemberBalance, error) {
	name, err := l.ownerName(snap, id)
	if err != nil {
		return MemberBalance{}, err
	}
	key = memberIxKey(key, id, seq)
	v, closer, err := snap.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return MemberBalance{}, fmt.Errorf("%w: no member index key for member %q at seq %d", ErrCorrupt, name, seq)
	}
	if err != nil {
		return MemberBalance{}, err
	}
	m, err := decodeMemberIx(v)
	closer.Close()
	if err != nil {
		return MemberBalance{}, fmt.Errorf("%w: member index %x: %v", ErrCorrupt, key, err)
	}
	return MemberBalance{Member: name, Balance: Balance{Available: m.Available, Pending: m.Pending, Held: m.Held}}, nil
}
