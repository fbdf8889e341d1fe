package ledger

import (
	"encoding/binary"
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
	// Records counts the command records stored beside the entries. They
	// are the engine's, opaque here: Verify checks only their key form.
	Records uint64
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
//   - the owner table is a bijection (name -> id -> name);
//   - every command record key holds an id of 1..1024 bytes (the values
//     are the engine's and not read).
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

// verifier carries what a verification has learned from one check to the
// next: the owner table, every account's sum, and the index contents the
// entries imply. Each check reads the store once and records or compares.
type verifier struct {
	r    pebble.Reader
	meta meta
	sum  VerifySummary

	owners map[uint32]string // owner id -> ns + name
	maxID  uint32

	accts   map[uint64]int64 // account -> sum of its entries
	members map[uint32]*vmember
	// What the command and day indexes must hold, folded as digests.
	cmdDigest, dayDigest, dayKeys uint64

	// The chain so far.
	prevHash         [32]byte
	prevPos, lastSeq uint64

	raws []rawEntry // scratch: the entries of the current block
	days []int64    // scratch: the days of the current block seen so far
}

func verifyReader(r pebble.Reader) (VerifySummary, error) {
	m, found, err := readMeta(r)
	if err != nil {
		return VerifySummary{}, err
	}
	if !found {
		return VerifySummary{}, checkEmpty(r)
	}
	v := &verifier{r: r, meta: m, owners: map[uint32]string{}, accts: map[uint64]int64{}, members: map[uint32]*vmember{}}
	for _, check := range []func() error{
		v.checkOwners,
		v.checkChain,
		v.checkMeta,
		v.checkZeroSum,
		v.checkBalances,
		v.checkMemberIndex,
		v.checkCommandAndDayIndexes,
		v.countRecords,
	} {
		if err := check(); err != nil {
			return v.sum, err
		}
	}
	return v.sum, nil
}

// checkEmpty: a store without meta must hold nothing but command records
// (see onlyRecords).
func checkEmpty(r pebble.Reader) error {
	k, only, err := onlyRecords(r)
	if err != nil {
		return err
	}
	if !only {
		return corrupt("meta key missing, store holds key %x", k)
	}
	return nil
}

// checkOwners reads the owner table (id -> ns+name, and the inverse) and
// checks it is a bijection.
func (v *verifier) checkOwners() error {
	if err := scan(v.r, []byte{pIDOwner}, func(k, val []byte) error {
		if len(k) != 5 || len(val) < 2 || (val[0] != nsMember && val[0] != nsPartner) {
			return corrupt("owner key %x: bad key or value", k)
		}
		id := binary.BigEndian.Uint32(k[1:])
		if id == 0 || id >= v.meta.NextOwnerID {
			return corrupt("owner key %x: id %d outside 1..%d", k, id, v.meta.NextOwnerID-1)
		}
		v.owners[id] = string(val)
		v.maxID = max(v.maxID, id)
		switch val[0] {
		case nsMember:
			v.sum.Members++
		case nsPartner:
			v.sum.Partners++
		}
		return nil
	}); err != nil {
		return err
	}
	nNames := 0
	if err := scan(v.r, []byte{pOwnerID}, func(k, val []byte) error {
		if len(k) < 3 || len(val) != 4 {
			return corrupt("owner name key %q: bad key or value", k)
		}
		id := binary.BigEndian.Uint32(val)
		if v.owners[id] != string(k[1:]) {
			return corrupt("owner name key %q -> id %d, but id %d names %q", k[1:], id, id, v.owners[id])
		}
		nNames++
		return nil
	}); err != nil {
		return err
	}
	if nNames != len(v.owners) {
		return corrupt("owner table: %d names for %d ids", nNames, len(v.owners))
	}
	return nil
}

// blockCursor walks the entry blocks in seq order alongside the batches.
type blockCursor struct {
	it    *pebble.Iterator
	valid bool
}

// checkChain walks the batches and their blocks: the hash chain, positions
// and seqs, and every entry (see checkEntry).
func (v *verifier) checkChain() error {
	bit, err := v.r.NewIter(&pebble.IterOptions{LowerBound: []byte{pBatch}, UpperBound: []byte{pBatch + 1}})
	if err != nil {
		return err
	}
	defer bit.Close()
	eit, err := v.r.NewIter(&pebble.IterOptions{LowerBound: []byte{pBlock}, UpperBound: []byte{pBlock + 1}})
	if err != nil {
		return err
	}
	defer eit.Close()
	blocks := &blockCursor{it: eit, valid: eit.First()}
	for ok := bit.First(); ok; ok = bit.Next() {
		if err := v.checkBatch(bit.Key(), bit.Value(), blocks); err != nil {
			return err
		}
	}
	if err := bit.Error(); err != nil {
		return err
	}
	if blocks.valid {
		return corrupt("block key %x lies outside every batch", eit.Key())
	}
	return eit.Error()
}

// checkBatch checks one batch record and the blocks it covers.
func (v *verifier) checkBatch(k, val []byte, blocks *blockCursor) error {
	if len(k) != 9 {
		return corrupt("batch key %x", k)
	}
	pos := binary.BigEndian.Uint64(k[1:])
	rec, err := decodeBatchRec(val)
	if err != nil {
		return corrupt("batch position %d: record: %v", pos, err)
	}
	if pos <= v.prevPos {
		return corrupt("batch position %d after %d", pos, v.prevPos)
	}
	if rec.FirstSeq != v.lastSeq+1 || rec.FirstSeq+rec.Count < rec.FirstSeq {
		return corrupt("batch position %d: first seq %d, expected %d", pos, rec.FirstSeq, v.lastSeq+1)
	}
	ch := newChainHasher(v.prevHash, pos, rec.FirstSeq, rec.Count)
	var run cmdRun // command runs reset at batch boundaries, as in Append
	for covered := uint64(0); covered < rec.Count; {
		n, err := v.checkBlock(pos, rec, covered, ch, &run, blocks)
		if err != nil {
			return err
		}
		covered += n
	}
	run.flush(&v.cmdDigest)
	if h := ch.sum(); h != rec.Hash {
		return corrupt("batch position %d (seq %d..%d): hash mismatch", pos, rec.FirstSeq, rec.FirstSeq+rec.Count-1)
	}
	v.prevHash, v.prevPos, v.lastSeq = rec.Hash, pos, rec.FirstSeq+rec.Count-1
	v.sum.Batches++
	return nil
}

// checkBlock checks the block at the cursor, which must be the one holding
// the batch's seq FirstSeq+covered, and returns how many entries it holds.
func (v *verifier) checkBlock(pos uint64, rec batchRec, covered uint64, ch *chainHasher, run *cmdRun, blocks *blockCursor) (uint64, error) {
	want := rec.FirstSeq + covered
	if !blocks.valid {
		if err := blocks.it.Error(); err != nil {
			return 0, err
		}
		return 0, corrupt("batch position %d: block for seq %d missing", pos, want)
	}
	ek := blocks.it.Key()
	if len(ek) != 9 || binary.BigEndian.Uint64(ek[1:]) != want {
		return 0, corrupt("batch position %d: expected block seq %d, found key %x", pos, want, ek)
	}
	val, err := blocks.it.ValueAndErr()
	if err != nil {
		return 0, err
	}
	ch.block(want, val)
	v.raws, err = decodeBlock(val, want, v.raws[:0])
	if err != nil {
		return 0, corrupt("batch position %d: block seq %d: %v", pos, want, err)
	}
	if covered+uint64(len(v.raws)) > rec.Count {
		return 0, corrupt("batch position %d: block seq %d overruns the batch (seq %d..%d)", pos, want, rec.FirstSeq, rec.FirstSeq+rec.Count-1)
	}
	v.days = v.days[:0]
	for i := range v.raws {
		if err := v.checkEntry(pos, &v.raws[i], want, run); err != nil {
			return 0, err
		}
	}
	blocks.valid = blocks.it.Next()
	return uint64(len(v.raws)), nil
}

// checkEntry checks one entry's accounts, adds it to the account sums and
// the digest, and records what it implies for the indexes.
func (v *verifier) checkEntry(pos uint64, e *rawEntry, blockSeq uint64, run *cmdRun) error {
	if err := v.checkAcct(e.Debit); err != nil {
		return corrupt("batch position %d: seq %d: debit: %v", pos, e.Seq, err)
	}
	if err := v.checkAcct(e.Credit); err != nil {
		return corrupt("batch position %d: seq %d: credit: %v", pos, e.Seq, err)
	}
	if v.accts[e.Debit] > math.MaxInt64-e.Points || v.accts[e.Credit] < math.MinInt64+e.Points {
		return corrupt("batch position %d: seq %d: balance overflow", pos, e.Seq)
	}
	v.accts[e.Debit] += e.Points
	v.accts[e.Credit] -= e.Points
	v.sum.Entries++
	v.sum.Digest = mix(v.sum.Digest, e.Seq, uint64(e.AtMS), mixString(0, e.CommandID), uint64(e.Kind),
		acctDigest(v.owners, e.Debit), acctDigest(v.owners, e.Credit), uint64(e.Points))
	v.expectMemberIx(e)
	run.add(&v.cmdDigest, e.CommandID, e.Seq)
	v.expectDay(e, blockSeq)
	return nil
}

// checkAcct: an account names an existing owner of its kind.
func (v *verifier) checkAcct(code uint64) error {
	k := codeKind(code)
	if k.IsOperator() {
		return nil
	}
	name, ok := v.owners[codeOwner(code)]
	if !ok {
		return fmt.Errorf("account %d names unknown owner id %d", code, codeOwner(code))
	}
	if name[0] != nsOf(k) {
		return fmt.Errorf("account %d: owner %q is not a %s owner", code, name[1:], k)
	}
	return nil
}

// expectMemberIx folds the member index keys an entry implies (same rule
// as Append) into its members' expected digests.
func (v *verifier) expectMemberIx(e *rawEntry) {
	dk, ck := codeKind(e.Debit), codeKind(e.Credit)
	ids, n := entryMembers(e)
	for j := 0; j < n; j++ {
		vm := v.members[ids[j]]
		if vm == nil {
			vm = &vmember{}
			v.members[ids[j]] = vm
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
}

// expectDay folds the day index key an entry implies: one per distinct day
// in its block.
func (v *verifier) expectDay(e *rawEntry, blockSeq uint64) {
	d := dayOf(e.AtMS)
	seen := false
	for _, x := range v.days {
		seen = seen || x == d
	}
	if !seen {
		v.days = append(v.days, d)
		v.dayDigest += mix(0, uint64(d), blockSeq)
		v.dayKeys++
	}
}

// cmdRun is the run of consecutive entries of one command being read: the
// command index holds one key per run.
type cmdRun struct {
	id       string
	start, n uint64
}

func (r *cmdRun) add(digest *uint64, id string, seq uint64) {
	if r.n > 0 && id == r.id {
		r.n++
		return
	}
	r.flush(digest)
	r.id, r.start, r.n = id, seq, 1
}

func (r *cmdRun) flush(digest *uint64) {
	if r.n > 0 {
		*digest += mix(mixString(0, r.id), r.start, r.n)
	}
	r.n = 0
}

// checkMeta: the meta key names the last batch of the chain.
func (v *verifier) checkMeta() error {
	m := v.meta
	if m.Position != v.prevPos || m.LastSeq != v.lastSeq || m.Hash != v.prevHash || m.Batches != v.sum.Batches || m.NextOwnerID <= v.maxID {
		return corrupt("meta (position %d, seq %d, batches %d) disagrees with the chain (position %d, seq %d, batches %d)",
			m.Position, m.LastSeq, m.Batches, v.prevPos, v.lastSeq, v.sum.Batches)
	}
	v.sum.Position, v.sum.LastSeq = v.prevPos, v.lastSeq
	v.sum.Accounts = uint64(len(v.accts))
	return nil
}

func (v *verifier) checkZeroSum() error {
	var total int64
	for _, b := range v.accts {
		total += b
	}
	if total != 0 {
		return corrupt("sum of all account balances is %d, not 0", total)
	}
	return nil
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

// countRecords counts the command records and checks their ids' lengths.
func (v *verifier) countRecords() error {
	return scan(v.r, []byte{pRecord}, func(k, val []byte) error {
		if len(k) < 2 || len(k)-1 > maxCommandIDLen || len(val) > maxRecordValueLen {
			return corrupt("record key %x: id of %d bytes, value of %d", k[:min(len(k), 64)], len(k)-1, len(val))
		}
		v.sum.Records++
		return nil
	})
}
