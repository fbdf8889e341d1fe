package ledger

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/cockroachdb/pebble/v2"
)

// The checks of the stored indexes and balances against what the entries
// imply (the verifier has read the entries; see verify.go).

// checkBalances: each partner and operator balance key equals the sum of
// its entries, and none is missing.
func (v *verifier) checkBalances() error {
	seenBal := map[uint64]bool{}
	if err := scanBalances(v.r, func(code uint64, bal int64) error {
		seenBal[code] = true
		if v.accts[code] != bal {
			return corrupt("balance key %x (%s): stored %d, entries sum to %d", balanceKey(code), describe(v.owners, code), bal, v.accts[code])
		}
		return nil
	}); err != nil {
		return err
	}
	for code := range v.accts {
		if !codeKind(code).IsMember() && !seenBal[code] {
			return corrupt("balance key %x (%s) missing", balanceKey(code), describe(v.owners, code))
		}
	}
	return nil
}

// ixCheck is the member whose index keys checkMemberIndex is reading.
type ixCheck struct {
	cur       uint32
	curM      *vmember
	got, gotN uint64 // digest and count of its keys read so far
	last      memberIx
}

// checkMemberIndex: per member, the digest of (seq, at, max at, running
// balances) over its index keys equals what the entries imply, and the
// final running balances equal the entries' sums.
func (v *verifier) checkMemberIndex() error {
	var c ixCheck
	if err := scan(v.r, []byte{pMemberIx}, func(k, val []byte) error {
		if len(k) != 13 {
			return corrupt("member index key %x", k)
		}
		id := binary.BigEndian.Uint32(k[1:])
		seq := binary.BigEndian.Uint64(k[5:])
		if c.curM == nil || id != c.cur {
			if err := v.finishMember(&c); err != nil {
				return err
			}
			c = ixCheck{cur: id, curM: v.members[id], last: c.last}
			if c.curM == nil {
				return corrupt("member index key %x: no entries touch owner id %d", k, id)
			}
		}
		ix, err := decodeMemberIx(val)
		if err != nil {
			return corrupt("member index key %x: %v", k, err)
		}
		c.got = ixDigest(c.got, seq, ix)
		c.gotN++
		c.last = ix
		return nil
	}); err != nil {
		return err
	}
	if err := v.finishMember(&c); err != nil {
		return err
	}
	for id, vm := range v.members {
		if vm.count != math.MaxUint64 {
			return corrupt("member %q (id %d): member index keys missing", v.owners[id][1:], id)
		}
	}
	return nil
}

// finishMember compares the member just read against its entries and marks
// it checked.
func (v *verifier) finishMember(c *ixCheck) error {
	if c.curM == nil {
		return nil
	}
	name := v.owners[c.cur]
	if c.gotN != c.curM.count || c.got != c.curM.digest {
		return corrupt("member index of member %q (id %d): %d keys, entries imply %d; contents differ: %v", name[1:], c.cur, c.gotN, c.curM.count, c.got != c.curM.digest)
	}
	for _, k := range []AccountKind{AccountMemberPending, AccountMemberAvailable, AccountMemberHeld} {
		var run int64
		switch k {
		case AccountMemberPending:
			run = c.last.Pending
		case AccountMemberAvailable:
			run = c.last.Available
		case AccountMemberHeld:
			run = c.last.Held
		}
		if run != v.accts[acctCode(c.cur, k)] {
			return corrupt("member %q: running balance of %s is %d, entries sum to %d", name[1:], Account{k, name[1:]}, run, v.accts[acctCode(c.cur, k)])
		}
	}
	c.curM.count = math.MaxUint64 // mark checked
	return nil
}

// checkCommandAndDayIndexes: both indexes hold exactly the keys the entries
// imply. Both are read before either is compared, so that a malformed key
// in either is reported before a mismatch.
func (v *verifier) checkCommandAndDayIndexes() error {
	cmdGot, cmdN, err := scanCommandIndex(v.r)
	if err != nil {
		return err
	}
	dayGot, dayN, err := scanDayIndex(v.r)
	if err != nil {
		return err
	}
	if cmdGot != v.cmdDigest {
		return corrupt("command index (%d keys) disagrees with the entries", cmdN)
	}
	if dayGot != v.dayDigest || dayN != v.dayKeys {
		return corrupt("day index (%d keys, entries imply %d) disagrees with the entries", dayN, v.dayKeys)
	}
	return nil
}

func scanCommandIndex(r pebble.Reader) (digest, n uint64, err error) {
	err = scan(r, []byte{pCommand}, func(k, val []byte) error {
		i := bytes.IndexByte(k, 0)
		runN, w := binary.Uvarint(val)
		if i < 0 || len(k) != i+9 || w <= 0 || w != len(val) {
			return corrupt("command index key %q", k)
		}
		digest += mix(mixString(0, string(k[1:i])), binary.BigEndian.Uint64(k[i+1:]), runN)
		n++
		return nil
	})
	return digest, n, err
}

func scanDayIndex(r pebble.Reader) (digest, n uint64, err error) {
	err = scan(r, []byte{pDay}, func(k, val []byte) error {
		if len(k) != 17 || len(val) != 0 {
			return corrupt("day index key %x", k)
		}
		digest += mix(0, binary.BigEndian.Uint64(k[1:])^(1<<63), binary.BigEndian.Uint64(k[9:]))
		n++
		return nil
	})
	return digest, n, err
}
