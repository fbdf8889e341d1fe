package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/cockroachdb/pebble/v2"
)

// VerifySummary describes a store that passed verification.
type VerifySummary struct {
	Position uint64 // last batch position
	LastSeq  uint64
	Batches  uint64
	Entries  uint64
	Accounts uint64 // distinct accounts that appear in entries
	Members  uint64
	Partners uint64
	// Digest folds every entry's content (seq, time, command, kind,
	// accounts by name, points) in seq order. Batch positions and the hash
	// chain are a replica's own; Digest is the same on every replica that
	// holds the same entries.
	Digest uint64
}

// Verify checks the open store from a consistent snapshot; see VerifyDir.
func (l *Ledger) Verify() (VerifySummary, error) {
	snap := l.db.NewSnapshot()
	defer snap.Close()
	return verifyReader(snap)
}

// VerifyDir opens the store in dir read-only and checks:
//   - the hash chain: every batch record's hash equals sha256 over the
//     previous batch's hash, its position, seq range and its entry blocks,
//     and the meta key names the last batch;
//   - positions strictly increase and seqs are consecutive from 1, every
//     block lies inside its batch and no block lies outside one;
//   - every entry decodes, has points > 0, debit != credit, and both
//     accounts name existing owners of the right kind (double entry: each
//     entry, so each command, sums to zero);
//   - the sum of all account balances is 0;
//   - each partner/operator balance key and each member's running balance
//     (member index) equals the sum of its entries, and the member index,
//     command index and day index hold exactly the keys the entries imply;
//   - the owner table is a bijection (name -> id -> name).
//
// The error names the first broken place (batch position, seq, key) and
// wraps ErrCorrupt.
func VerifyDir(dir string) (VerifySummary, error) {
	return verifyDir(dir, Options{})
}

func verifyDir(dir string, o Options) (VerifySummary, error) {
	o.ReadOnly = true
	o.setDefaults()
	po, release := pebbleOptions(o)
	defer release()
	po.ErrorIfNotExists = true
	db, err := pebble.Open(dir, po)
	if err != nil {
		return VerifySummary{}, fmt.Errorf("ledger: open %s: %w", dir, err)
	}
	defer db.Close()
	return verifyReader(db)
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// mix folds words into a running 64-bit digest (FNV-1a over words, then a
// splitmix finalizer). Not cryptographic: it cross-checks indexes against
// the hash-chained entries.
func mix(h uint64, ws ...uint64) uint64 {
	if h == 0 {
		h = 14695981039346656037
	}
	for _, w := range ws {
		h ^= w
		h *= 1099511628211
		h ^= h >> 29
	}
	h ^= h >> 31
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	return h
}

func mixString(h uint64, s string) uint64 {
	for len(s) >= 8 {
		h = mix(h, binary.LittleEndian.Uint64([]byte(s[:8])))
		s = s[8:]
	}
	var buf [8]byte
	copy(buf[:], s)
	return mix(h, binary.LittleEndian.Uint64(buf[:]), uint64(len(s)))
}

type vmember struct {
	run     Balance
	maxAt   int64
	count   uint64
	digest  uint64
	touched bool
}

// acctDigest names an account by kind and owner name (owner ids are a
// replica's own bookkeeping).
func acctDigest(owners map[uint32]string, code uint64) uint64 {
	k := codeKind(code)
	if k.IsOperator() {
		return uint64(k)
	}
	return mixString(uint64(k), owners[codeOwner(code)])
}

func ixDigest(h uint64, seq uint64, m memberIx) uint64 {
	return mix(h, seq, uint64(m.AtMS), uint64(m.MaxAtMS), uint64(m.Available), uint64(m.Pending), uint64(m.Held))
}

func verifyReader(r pebble.Reader) (VerifySummary, error) {
	var sum VerifySummary
	m, found, err := readMeta(r)
	if err != nil {
		return sum, err
	}
	if !found {
		it, err := r.NewIter(nil)
		if err != nil {
			return sum, err
		}
		nonEmpty := it.First()
		var k []byte
		if nonEmpty {
			k = append(k, it.Key()...)
		}
		if err := errors.Join(it.Error(), it.Close()); err != nil {
			return sum, err
		}
		if nonEmpty {
			return sum, corrupt("meta key missing, store holds key %x", k)
		}
		return sum, nil
	}

	// Owner table: id -> ns+name, and the inverse.
	owners := map[uint32]string{}
	var maxID uint32
	if err := scan(r, []byte{pIDOwner}, func(k, v []byte) error {
		if len(k) != 5 || len(v) < 2 || (v[0] != nsMember && v[0] != nsPartner) {
			return corrupt("owner key %x: bad key or value", k)
		}
		id := binary.BigEndian.Uint32(k[1:])
		if id == 0 || id >= m.NextOwnerID {
			return corrupt("owner key %x: id %d outside 1..%d", k, id, m.NextOwnerID-1)
		}
		owners[id] = string(v)
		maxID = max(maxID, id)
		switch v[0] {
		case nsMember:
			sum.Members++
		case nsPartner:
			sum.Partners++
		}
		return nil
	}); err != nil {
		return sum, err
	}
	nNames := 0
	if err := scan(r, []byte{pOwnerID}, func(k, v []byte) error {
		if len(k) < 3 || len(v) != 4 {
			return corrupt("owner name key %q: bad key or value", k)
		}
		id := binary.BigEndian.Uint32(v)
		if owners[id] != string(k[1:]) {
			return corrupt("owner name key %q -> id %d, but id %d names %q", k[1:], id, id, owners[id])
		}
		nNames++
		return nil
	}); err != nil {
		return sum, err
	}
	if nNames != len(owners) {
		return sum, corrupt("owner table: %d names for %d ids", nNames, len(owners))
	}

	// The hash chain over batches and blocks.
	bit, err := r.NewIter(&pebble.IterOptions{LowerBound: []byte{pBatch}, UpperBound: []byte{pBatch + 1}})
	if err != nil {
		return sum, err
	}
	defer bit.Close()
	eit, err := r.NewIter(&pebble.IterOptions{LowerBound: []byte{pBlock}, UpperBound: []byte{pBlock + 1}})
	if err != nil {
		return sum, err
	}
	defer eit.Close()
	eValid := eit.First()

	accts := map[uint64]int64{}
	members := map[uint32]*vmember{}
	var cmdDigest, dayDigest, dayKeys uint64
	var prevHash [32]byte
	var prevPos, lastSeq uint64
	var raws []rawEntry
	var days []int64
	checkAcct := func(code uint64) error {
		k := codeKind(code)
		if k.IsOperator() {
			return nil
		}
		name, ok := owners[codeOwner(code)]
		if !ok {
			return fmt.Errorf("account %d names unknown owner id %d", code, codeOwner(code))
		}
		if name[0] != nsOf(k) {
			return fmt.Errorf("account %d: owner %q is not a %s owner", code, name[1:], k)
		}
		return nil
	}
	for ok := bit.First(); ok; ok = bit.Next() {
		k := bit.Key()
		if len(k) != 9 {
			return sum, corrupt("batch key %x", k)
		}
		pos := binary.BigEndian.Uint64(k[1:])
		rec, err := decodeBatchRec(bit.Value())
		if err != nil {
			return sum, corrupt("batch position %d: record: %v", pos, err)
		}
		if pos <= prevPos {
			return sum, corrupt("batch position %d after %d", pos, prevPos)
		}
		if rec.FirstSeq != lastSeq+1 || rec.FirstSeq+rec.Count < rec.FirstSeq {
			return sum, corrupt("batch position %d: first seq %d, expected %d", pos, rec.FirstSeq, lastSeq+1)
		}
		ch := newChainHasher(prevHash, pos, rec.FirstSeq, rec.Count)
		cmdRun, cmdStart, cmdN := "", uint64(0), uint64(0)
		flushRun := func() {
			if cmdN > 0 {
				cmdDigest += mix(mixString(0, cmdRun), cmdStart, cmdN)
			}
			cmdN = 0
		}
		for covered := uint64(0); covered < rec.Count; {
			want := rec.FirstSeq + covered
			if !eValid {
				if err := eit.Error(); err != nil {
					return sum, err
				}
				return sum, corrupt("batch position %d: block for seq %d missing", pos, want)
			}
			ek := eit.Key()
			if len(ek) != 9 || binary.BigEndian.Uint64(ek[1:]) != want {
				return sum, corrupt("batch position %d: expected block seq %d, found key %x", pos, want, ek)
			}
			v, err := eit.ValueAndErr()
			if err != nil {
				return sum, err
			}
			ch.block(want, v)
			raws, err = decodeBlock(v, want, raws[:0])
			if err != nil {
				return sum, corrupt("batch position %d: block seq %d: %v", pos, want, err)
			}
			if covered+uint64(len(raws)) > rec.Count {
				return sum, corrupt("batch position %d: block seq %d overruns the batch (seq %d..%d)", pos, want, rec.FirstSeq, rec.FirstSeq+rec.Count-1)
			}
			covered += uint64(len(raws))
			days = days[:0]
			for i := range raws {
				e := &raws[i]
				if err := checkAcct(e.Debit); err != nil {
					return sum, corrupt("batch position %d: seq %d: debit: %v", pos, e.Seq, err)
				}
				if err := checkAcct(e.Credit); err != nil {
					return sum, corrupt("batch position %d: seq %d: credit: %v", pos, e.Seq, err)
				}
				if accts[e.Debit] > math.MaxInt64-e.Points || accts[e.Credit] < math.MinInt64+e.Points {
					return sum, corrupt("batch position %d: seq %d: balance overflow", pos, e.Seq)
				}
				accts[e.Debit] += e.Points
				accts[e.Credit] -= e.Points
				sum.Entries++
				sum.Digest = mix(sum.Digest, e.Seq, uint64(e.AtMS), mixString(0, e.CommandID), uint64(e.Kind),
					acctDigest(owners, e.Debit), acctDigest(owners, e.Credit), uint64(e.Points))
				// member index expectation (same rule as Append)
				dk, ck := codeKind(e.Debit), codeKind(e.Credit)
				ids, n := entryMembers(e)
				for j := 0; j < n; j++ {
					vm := members[ids[j]]
					if vm == nil {
						vm = &vmember{}
						members[ids[j]] = vm
					}
					if dk.IsMember() && codeOwner(e.Debit) == ids[j] {
						vm.run.add(dk, e.Points)
					}
					if ck.IsMember() && codeOwner(e.Credit) == ids[j] {
						vm.run.add(ck, -e.Points)
					}
					if !vm.touched || e.AtMS > vm.maxAt {
						vm.maxAt = e.AtMS
					}
					vm.touched = true
					vm.count++
					vm.digest = ixDigest(vm.digest, e.Seq, memberIx{AtMS: e.AtMS, MaxAtMS: vm.maxAt,
						Available: vm.run.Available, Pending: vm.run.Pending, Held: vm.run.Held})
				}
				// command runs (reset at batch boundaries, as in Append)
				if cmdN > 0 && e.CommandID == cmdRun {
					cmdN++
				} else {
					flushRun()
					cmdRun, cmdStart, cmdN = e.CommandID, e.Seq, 1
				}
				d := dayOf(e.AtMS)
				seen := false
				for _, x := range days {
					seen = seen || x == d
				}
				if !seen {
					days = append(days, d)
					dayDigest += mix(0, uint64(d), want)
					dayKeys++
				}
			}
			eValid = eit.Next()
		}
		flushRun()
		if h := ch.sum(); h != rec.Hash {
			return sum, corrupt("batch position %d (seq %d..%d): hash mismatch", pos, rec.FirstSeq, rec.FirstSeq+rec.Count-1)
		}
		prevHash, prevPos, lastSeq = rec.Hash, pos, rec.FirstSeq+rec.Count-1
		sum.Batches++
	}
	if err := bit.Error(); err != nil {
		return sum, err
	}
	if eValid {
		return sum, corrupt("block key %x lies outside every batch", eit.Key())
	}
	if err := eit.Error(); err != nil {
		return sum, err
	}
	if m.Position != prevPos || m.LastSeq != lastSeq || m.Hash != prevHash || m.Batches != sum.Batches || m.NextOwnerID <= maxID {
		return sum, corrupt("meta (position %d, seq %d, batches %d) disagrees with the chain (position %d, seq %d, batches %d)",
			m.Position, m.LastSeq, m.Batches, prevPos, lastSeq, sum.Batches)
	}
	sum.Position, sum.LastSeq = prevPos, lastSeq
	sum.Accounts = uint64(len(accts))

	// Zero sum.
	var total int64
	for _, b := range accts {
		total += b
	}
	if total != 0 {
		return sum, corrupt("sum of all account balances is %d, not 0", total)
	}

	// Partner and operator balance keys.
	seenBal := map[uint64]bool{}
	if err := scanBalances(r, func(code uint64, bal int64) error {
		seenBal[code] = true
		if accts[code] != bal {
			return corrupt("balance key %x (%s): stored %d, entries sum to %d", balanceKey(code), describe(owners, code), bal, accts[code])
		}
		return nil
	}); err != nil {
		return sum, err
	}
	for code := range accts {
		if !codeKind(code).IsMember() && !seenBal[code] {
			return sum, corrupt("balance key %x (%s) missing", balanceKey(code), describe(owners, code))
		}
	}

	// Member index: digest of (seq, at, max at, running balances) per member,
	// and the final running balances against the entries' sums.
	var cur uint32
	var curM *vmember
	var got uint64
	var gotN uint64
	var last memberIx
	finish := func() error {
		if curM == nil {
			return nil
		}
		name := owners[cur]
		if gotN != curM.count || got != curM.digest {
			return corrupt("member index of member %q (id %d): %d keys, entries imply %d; contents differ: %v", name[1:], cur, gotN, curM.count, got != curM.digest)
		}
		for _, k := range []AccountKind{AccountMemberPending, AccountMemberAvailable, AccountMemberHeld} {
			var run int64
			switch k {
			case AccountMemberPending:
				run = last.Pending
			case AccountMemberAvailable:
				run = last.Available
			case AccountMemberHeld:
				run = last.Held
			}
			if run != accts[acctCode(cur, k)] {
				return corrupt("member %q: running balance of %s is %d, entries sum to %d", name[1:], Account{k, name[1:]}, run, accts[acctCode(cur, k)])
			}
		}
		curM.count = math.MaxUint64 // mark checked
		return nil
	}
	if err := scan(r, []byte{pMemberIx}, func(k, v []byte) error {
		if len(k) != 13 {
			return corrupt("member index key %x", k)
		}
		id := binary.BigEndian.Uint32(k[1:])
		seq := binary.BigEndian.Uint64(k[5:])
		if curM == nil || id != cur {
			if err := finish(); err != nil {
				return err
			}
			cur, curM, got, gotN = id, members[id], 0, 0
			if curM == nil {
				return corrupt("member index key %x: no entries touch owner id %d", k, id)
			}
		}
		ix, err := decodeMemberIx(v)
		if err != nil {
			return corrupt("member index key %x: %v", k, err)
		}
		got = ixDigest(got, seq, ix)
		gotN++
		last = ix
		return nil
	}); err != nil {
		return sum, err
	}
	if err := finish(); err != nil {
		return sum, err
	}
	for id, vm := range members {
		if vm.count != math.MaxUint64 {
			return sum, corrupt("member %q (id %d): member index keys missing", owners[id][1:], id)
		}
	}

	// Command index and day index.
	var cmdGot, cmdN, dayGot, dayN uint64
	if err := scan(r, []byte{pCommand}, func(k, v []byte) error {
		i := bytes.IndexByte(k, 0)
		n, w := binary.Uvarint(v)
		if i < 0 || len(k) != i+9 || w <= 0 || w != len(v) {
			return corrupt("command index key %q", k)
		}
		cmdGot += mix(mixString(0, string(k[1:i])), binary.BigEndian.Uint64(k[i+1:]), n)
		cmdN++
		return nil
	}); err != nil {
		return sum, err
	}
	if err := scan(r, []byte{pDay}, func(k, v []byte) error {
		if len(k) != 17 || len(v) != 0 {
			return corrupt("day index key %x", k)
		}
		dayGot += mix(0, binary.BigEndian.Uint64(k[1:])^(1<<63), binary.BigEndian.Uint64(k[9:]))
		dayN++
		return nil
	}); err != nil {
		return sum, err
	}
	if cmdGot != cmdDigest {
		return sum, corrupt("command index (%d keys) disagrees with the entries", cmdN)
	}
	if dayGot != dayDigest || dayN != dayKeys {
		return sum, corrupt("day index (%d keys, entries imply %d) disagrees with the entries", dayN, dayKeys)
	}
	return sum, nil
}

func (b *Balance) add(k AccountKind, pts int64) {
	switch k {
	case AccountMemberAvailable:
		b.Available += pts
	case AccountMemberPending:
		b.Pending += pts
	case AccountMemberHeld:
		b.Held += pts
	}
}

func describe(owners map[uint32]string, code uint64) string {
	k := codeKind(code)
	if k.IsOperator() {
		return Account{Kind: k}.String()
	}
	n := owners[codeOwner(code)]
	if len(n) > 0 {
		n = n[1:]
	}
	return Account{Kind: k, Owner: n}.String()
}

// scan calls fn for every key with the prefix (values valid during fn only).
func scan(r pebble.Reader, prefix []byte, fn func(k, v []byte) error) error {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: upperBound(prefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if err := fn(it.Key(), v); err != nil {
			return err
		}
	}
	return it.Error()
}
