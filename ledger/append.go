package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Append writes the entries of one engine batch, the position it brings the
// state to (must be > Position()) and the hash-chain link as ONE Pebble
// batch. It assigns entries[i].Seq (global, 1-based, consecutive). An empty
// entries slice records the position only. Invalid entries (points <= 0,
// malformed accounts, debit == credit) are rejected before anything is
// written. If the commit itself fails the handle refuses further appends:
// reopen and resume from Position()+1.
func (l *Ledger) Append(position uint64, entries []Entry) error {
	return l.appendChecked(position, entries, nil)
}

// appendChecked is Append and AppendWithRecords once the records are valid.
func (l *Ledger) appendChecked(position uint64, entries []Entry, records []Record) error {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	if position <= l.meta.Position {
		return fmt.Errorf("ledger: append position %d <= current position %d", position, l.meta.Position)
	}
	for i := range entries {
		if err := entries[i].validate(); err != nil {
			return fmt.Errorf("ledger: append position %d entry %d: %w", position, i, err)
		}
	}
	if err := l.appendLocked(position, entries, records); err != nil {
		l.broken = err
		return fmt.Errorf("ledger: append position %d: %w", position, err)
	}
	return nil
}

// writable says why the handle refuses writes, if it does; appendMu held.
func (l *Ledger) writable() error {
	switch {
	case l.closed:
		return errors.New("ledger: closed")
	case l.opts.ReadOnly:
		return errors.New("ledger: read-only")
	case l.broken != nil:
		return fmt.Errorf("ledger: a previous append failed, reopen: %w", l.broken)
	}
	return nil
}

// appendTx is one append being built: the Pebble batch and the state the
// steps share. The owners the batch creates (ns + name -> id, visible to the
// caches only once it commits) travel beside it as newOwners, not in it:
// escape analysis treats a struct's pointers as one, and kept in appendTx the
// map would leak with the batch to the heap, one more allocation per append.
type appendTx struct {
	l         *Ledger
	b         *pebble.Batch
	position  uint64
	firstSeq  uint64
	count     uint64
	nextOwner uint32
	ixIter    *pebble.Iterator // member index reader, opened on first need
}

// appendLocked builds the batch step by step (owners, blocks and day index,
// balances and member index, command index, command records, chain link and
// meta), commits it, then publishes it. appendMu is held.
func (l *Ledger) appendLocked(position uint64, entries []Entry, records []Record) error {
	tx := appendTx{
		l:         l,
		b:         l.db.NewBatchWithSize(len(entries)*80 + len(records)*64 + 256),
		position:  position,
		firstSeq:  l.meta.LastSeq + 1,
		count:     uint64(len(entries)),
		nextOwner: l.meta.NextOwnerID,
	}
	defer tx.close()
	newOwners := map[string]uint32{}
	raws, err := tx.resolveEntries(entries, newOwners)
	if err != nil {
		return err
	}
	ch := newChainHasher(l.meta.Hash, position, tx.firstSeq, tx.count)
	if err := tx.writeBlocks(raws, ch); err != nil {
		return err
	}
	if err := tx.writeBalances(raws); err != nil {
		return err
	}
	if err := tx.writeCommandIndex(raws); err != nil {
		return err
	}
	writeRecords(tx.b, records)
	nm, err := tx.commit(ch.sum())
	if err != nil {
		return err
	}
	tx.publish(nm, entries, newOwners)
	return nil
}

func (tx *appendTx) close() {
	if tx.ixIter != nil {
		tx.ixIter.Close()
	}
	tx.b.Close()
}

// resolveEntries turns entries into raw entries: seqs assigned, accounts
// encoded with owner ids (new owners interned in this batch).
func (tx *appendTx) resolveEntries(entries []Entry, newOwners map[string]uint32) ([]rawEntry, error) {
	raws := tx.l.raws[:0]
	for i := range entries {
		e := &entries[i]
		d, err := tx.resolve(e.Debit, newOwners)
		if err != nil {
			return nil, err
		}
		c, err := tx.resolve(e.Credit, newOwners)
		if err != nil {
			return nil, err
		}
		raws = append(raws, rawEntry{Seq: tx.firstSeq + uint64(i), AtMS: e.AtMS, CommandID: e.CommandID,
			Kind: e.Kind, Debit: d, Credit: c, Points: e.Points})
	}
	tx.l.raws = raws[:0]
	return raws, nil
}

// resolve encodes an account, looking its owner up in this batch, the cache
// and (unless the cache is complete) Pebble, and interning it when new.
func (tx *appendTx) resolve(a Account, newOwners map[string]uint32) (uint64, error) {
	l := tx.l
	if a.Kind.IsOperator() {
		return acctCode(0, a.Kind), nil
	}
	ns := nsOf(a.Kind)
	l.nameBuf = append(append(l.nameBuf[:0], ns), a.Owner...)
	if id, ok := newOwners[string(l.nameBuf)]; ok {
		return acctCode(id, a.Kind), nil
	}
	l.cmu.Lock()
	id, ok := l.owners.id(l.nameBuf)
	complete := l.ownersComplete
	l.cmu.Unlock()
	if ok {
		return acctCode(id, a.Kind), nil
	}
	name := string(l.nameBuf)
	if !complete {
		id, ok, err := lookupOwnerDB(l.db, ns, a.Owner)
		if err != nil {
			return 0, err
		}
		if ok {
			l.cacheOwner(name, id)
			return acctCode(id, a.Kind), nil
		}
	}
	id, err := tx.newOwner(ns, a.Owner, name, newOwners)
	if err != nil {
		return 0, err
	}
	return acctCode(id, a.Kind), nil
}

// newOwner interns an owner in this batch under the next free id.
func (tx *appendTx) newOwner(ns byte, owner, nsName string, newOwners map[string]uint32) (uint32, error) {
	if tx.nextOwner == ^uint32(0) {
		return 0, errors.New("owner id space exhausted")
	}
	id := tx.nextOwner
	tx.nextOwner++
	newOwners[nsName] = id
	var idv [4]byte // on the stack: Set copies key and value
	binary.BigEndian.PutUint32(idv[:], id)
	l := tx.l
	l.keyBuf = appendOwnerIDKey(l.keyBuf[:0], ns, owner)
	if err := tx.b.Set(l.keyBuf, idv[:], nil); err != nil {
		return 0, err
	}
	l.keyBuf = append(append(l.keyBuf[:0], pIDOwner), idv[:]...)
	l.valBuf = append(l.valBuf[:0], nsName...)
	if err := tx.b.Set(l.keyBuf, l.valBuf, nil); err != nil {
		return 0, err
	}
	if ns == nsMember {
		*l.owners.balance(id) = memberState{loaded: true} // brand new: nothing stored to load
	}
	return id, nil
}

// writeBlocks writes the entry blocks and their day index keys, and feeds
// the blocks to the hash chain.
func (tx *appendTx) writeBlocks(raws []rawEntry, ch *chainHasher) error {
	l := tx.l
	for start := 0; start < len(raws); start += blockEntries {
		end := min(start+blockEntries, len(raws))
		blk := raws[start:end]
		l.valBuf = encodeBlock(l.valBuf[:0], blk)
		if err := tx.b.Set(blockKey(blk[0].Seq), l.valBuf, nil); err != nil {
			return err
		}
		ch.block(blk[0].Seq, l.valBuf)
		if err := tx.writeDays(blk); err != nil {
			return err
		}
	}
	return nil
}

// writeDays writes one day index key per distinct day in a block.
func (tx *appendTx) writeDays(blk []rawEntry) error {
	days := make([]int64, 0, blockEntries) // on the stack: at most a key per entry
	for i := range blk {
		d := dayOf(blk[i].AtMS)
		seen := false
		for _, x := range days {
			if x == d {
				seen = true
				break
			}
		}
		if !seen && len(days) < blockEntries {
			days = append(days, d)
			if err := tx.b.Set(dayKey(d, blk[0].Seq), nil, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeBalances writes the member index with running balances, and the
// partner/operator balances the batch changes.
func (tx *appendTx) writeBalances(raws []rawEntry) error {
	l := tx.l
	touched := map[uint64]struct{}{}
	for i := range raws {
		e := &raws[i]
		if err := tx.writeMemberIx(e); err != nil {
			return err
		}
		if dk := codeKind(e.Debit); !dk.IsMember() {
			l.nonMember[e.Debit] += e.Points
			touched[e.Debit] = struct{}{}
		}
		if ck := codeKind(e.Credit); !ck.IsMember() {
			l.nonMember[e.Credit] -= e.Points
			touched[e.Credit] = struct{}{}
		}
	}
	for code := range touched {
		var val [binary.MaxVarintLen64]byte
		if err := tx.b.Set(balanceKey(code), binary.AppendUvarint(val[:0], zig(l.nonMember[code])), nil); err != nil {
			return err
		}
	}
	return nil
}

// writeMemberIx moves the running balances of the members an entry touches
// and writes their member index keys.
func (tx *appendTx) writeMemberIx(e *rawEntry) error {
	l := tx.l
	dk, ck := codeKind(e.Debit), codeKind(e.Credit)
	ids, n := entryMembers(e)
	for j := 0; j < n; j++ {
		ms, err := tx.member(ids[j])
		if err != nil {
			return err
		}
		if dk.IsMember() && codeOwner(e.Debit) == ids[j] {
			ms.add(dk, e.Points)
		}
		if ck.IsMember() && codeOwner(e.Credit) == ids[j] {
			ms.add(ck, -e.Points)
		}
		if !ms.has || e.AtMS > ms.maxAtMS {
			ms.maxAtMS = e.AtMS
		}
		ms.has = true
		ix := memberIx{AtMS: e.AtMS, MaxAtMS: ms.maxAtMS, Available: ms.available, Pending: ms.pending, Held: ms.held}
		var key [13]byte // on the stack: the key is 13 bytes
		kbuf := memberIxKey(key[:0], ids[j], e.Seq)
		l.valBuf = ix.encode(l.valBuf[:0])
		if err := tx.b.Set(kbuf, l.valBuf, nil); err != nil {
			return err
		}
	}
	return nil
}

// member returns a member's running state, from the cache or else from its
// last member index key.
func (tx *appendTx) member(id uint32) (*memberState, error) {
	l := tx.l
	ms := l.owners.balance(id)
	if ms.loaded {
		return ms, nil
	}
	if tx.ixIter == nil {
		var err error
		tx.ixIter, err = l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{pMemberIx}, UpperBound: []byte{pMemberIx + 1}})
		if err != nil {
			return nil, err
		}
	}
	it := tx.ixIter
	*ms = memberState{loaded: true}
	lo, hi := memberIxBounds(id)
	if it.SeekLT(hi) && bytes.HasPrefix(it.Key(), lo) {
		m, err := decodeMemberIx(it.Value())
		if err != nil {
			return nil, fmt.Errorf("%w: member index %x: %v", ErrCorrupt, it.Key(), err)
		}
		*ms = memberState{loaded: true, has: true, maxAtMS: m.MaxAtMS, available: m.Available, pending: m.Pending, held: m.Held}
	} else if err := it.Error(); err != nil {
		return nil, err
	}
	return ms, nil
}

// writeCommandIndex writes one key per run of consecutive entries of a
// command.
func (tx *appendTx) writeCommandIndex(raws []rawEntry) error {
	l := tx.l
	for i := 0; i < len(raws); {
		j := i + 1
		for j < len(raws) && raws[j].CommandID == raws[i].CommandID {
			j++
		}
		var val [binary.MaxVarintLen64]byte // on the stack: Set copies key and value
		l.keyBuf = appendCommandKey(l.keyBuf[:0], raws[i].CommandID, raws[i].Seq)
		if err := tx.b.Set(l.keyBuf, binary.AppendUvarint(val[:0], uint64(j-i)), nil); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// commit writes the batch record (the chain link) and the new meta, and
// commits the batch; it returns the new meta.
func (tx *appendTx) commit(hash [32]byte) (meta, error) {
	l := tx.l
	rec := batchRec{FirstSeq: tx.firstSeq, Count: tx.count, Hash: hash}
	if err := tx.b.Set(batchKey(tx.position), rec.encode(), nil); err != nil {
		return meta{}, err
	}
	nm := l.meta
	nm.Position = tx.position
	nm.LastSeq = tx.firstSeq + tx.count - 1
	nm.Batches++
	nm.NextOwnerID = tx.nextOwner
	nm.Hash = rec.Hash
	if err := tx.b.Set(metaKey, nm.encode(), nil); err != nil {
		return meta{}, err
	}
	if err := tx.b.Commit(l.wo); err != nil {
		return meta{}, err
	}
	return nm, nil
}

// publish makes a committed batch visible: meta, the entries' seqs, the new
// owners, and the position readers see.
func (tx *appendTx) publish(nm meta, entries []Entry, newOwners map[string]uint32) {
	l := tx.l
	// Assertions after the write.
	if nm.LastSeq != l.meta.LastSeq+tx.count || nm.Position <= l.meta.Position || nm.NextOwnerID < l.meta.NextOwnerID {
		panic(fmt.Sprintf("ledger: invariant broken after append: %+v -> %+v", l.meta, nm))
	}
	l.meta = nm
	for i := range entries {
		entries[i].Seq = tx.firstSeq + uint64(i)
	}
	for name, id := range newOwners {
		l.cacheOwner(name, id)
	}
	l.writes.Add(1) // before the position: a reader that sees it reopens its view
	l.lastSeq.Store(nm.LastSeq)
	l.position.Store(nm.Position)
}

func (ms *memberState) add(k AccountKind, pts int64) {
	switch k {
	case AccountMemberAvailable:
		ms.available += pts
	case AccountMemberPending:
		ms.pending += pts
	case AccountMemberHeld:
		ms.held += pts
	}
}

func (l *Ledger) cacheOwner(nsName string, id uint32) {
	l.cmu.Lock()
	if !l.owners.add(nsName, id) {
		l.ownersComplete = false
	}
	l.cmu.Unlock()
}

func lookupOwnerDB(r pebble.Reader, ns byte, name string) (uint32, bool, error) {
	v, c, err := r.Get(ownerIDKey(ns, name))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	defer c.Close()
	if len(v) != 4 {
		return 0, false, fmt.Errorf("%w: owner key %q: bad value", ErrCorrupt, name)
	}
	return binary.BigEndian.Uint32(v), true, nil
}

// entryMembers returns the distinct members an entry touches (0, 1 or 2):
// the members whose index gets the entry, in Append and in Verify alike.
func entryMembers(e *rawEntry) ([2]uint32, int) {
	var ids [2]uint32
	n := 0
	if codeKind(e.Debit).IsMember() {
		ids[n] = codeOwner(e.Debit)
		n++
	}
	if codeKind(e.Credit).IsMember() && (n == 0 || ids[0] != codeOwner(e.Credit)) {
		ids[n] = codeOwner(e.Credit)
		n++
	}
	return ids, n
}
