package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// ownerName resolves an owner id to its name (without namespace byte).
func (l *Ledger) ownerName(r pebble.Reader, id uint32) (string, error) {
	l.cmu.Lock()
	n, ok := l.ownerNames[id]
	l.cmu.Unlock()
	if ok {
		return n[1:], nil
	}
	v, c, err := r.Get(idOwnerKey(id))
	if errors.Is(err, pebble.ErrNotFound) {
		return "", fmt.Errorf("%w: owner id %d has no name", ErrCorrupt, id)
	}
	if err != nil {
		return "", err
	}
	n = string(v) // copy before closing
	c.Close()
	if len(n) < 2 {
		return "", fmt.Errorf("%w: owner id %d: bad name", ErrCorrupt, id)
	}
	l.cacheOwner(n, id)
	return n[1:], nil
}

func (l *Ledger) ownerID(r pebble.Reader, ns byte, name string) (uint32, bool, error) {
	l.cmu.Lock()
	id, ok := l.ownerIDs[string(ns)+name]
	l.cmu.Unlock()
	if ok {
		return id, true, nil
	}
	id, ok, err := lookupOwnerDB(r, ns, name)
	if ok {
		l.cacheOwner(string(ns)+name, id)
	}
	return id, ok, err
}

func (l *Ledger) account(r pebble.Reader, code uint64) (Account, error) {
	k := codeKind(code)
	if k.IsOperator() {
		return Account{Kind: k}, nil
	}
	n, err := l.ownerName(r, codeOwner(code))
	return Account{Kind: k, Owner: n}, err
}

func (l *Ledger) entry(r pebble.Reader, e *rawEntry) (Entry, error) {
	d, err := l.account(r, e.Debit)
	if err != nil {
		return Entry{}, err
	}
	c, err := l.account(r, e.Credit)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Seq: e.Seq, AtMS: e.AtMS, CommandID: e.CommandID, Kind: e.Kind, Debit: d, Credit: c, Points: e.Points}, nil
}

// blockReader fetches entries by seq, decoding each block once while it
// stays the current one.
type blockReader struct {
	it       *pebble.Iterator
	firstSeq uint64
	raws     []rawEntry
}

func newBlockReader(r pebble.Reader) (*blockReader, error) {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: []byte{pBlock}, UpperBound: []byte{pBlock + 1}})
	if err != nil {
		return nil, err
	}
	return &blockReader{it: it}, nil
}

func (br *blockReader) close() { br.it.Close() }

func (br *blockReader) get(seq uint64) (*rawEntry, error) {
	if len(br.raws) > 0 && seq >= br.firstSeq && seq < br.firstSeq+uint64(len(br.raws)) {
		return &br.raws[seq-br.firstSeq], nil
	}
	if seq == 0 || seq == math.MaxUint64 {
		return nil, fmt.Errorf("ledger: bad seq %d", seq)
	}
	if !br.it.SeekLT(blockKey(seq + 1)) {
		if err := br.it.Error(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: no block holds seq %d", ErrCorrupt, seq)
	}
	if err := br.load(); err != nil {
		return nil, err
	}
	if seq >= br.firstSeq+uint64(len(br.raws)) {
		return nil, fmt.Errorf("%w: no block holds seq %d", ErrCorrupt, seq)
	}
	return &br.raws[seq-br.firstSeq], nil
}

// load decodes the block under the iterator (entries are copied out).
func (br *blockReader) load() error {
	k := br.it.Key()
	br.raws = br.raws[:0]
	if len(k) != 9 {
		return fmt.Errorf("%w: block key %x", ErrCorrupt, k)
	}
	br.firstSeq = binary.BigEndian.Uint64(k[1:])
	v, err := br.it.ValueAndErr()
	if err != nil {
		return err
	}
	br.raws, err = decodeBlock(v, br.firstSeq, br.raws)
	if err != nil {
		br.raws = br.raws[:0]
		return fmt.Errorf("%w: block seq %d: %v", ErrCorrupt, br.firstSeq, err)
	}
	return nil
}

// StatementQuery selects a page of a member's statement.
type StatementQuery struct {
	// FromMS (inclusive) and ToMS (exclusive) restrict entries by time;
	// both 0 means no restriction, ToMS 0 alone means no upper bound.
	FromMS, ToMS int64
	// Limit is the page size: default 100, at most 1000.
	Limit int
	// Cursor continues a previous page (StatementPage.Next); "" starts at
	// the newest entry.
	Cursor string
}

// StatementPage is one page of a statement, newest entry first.
type StatementPage struct {
	Entries []Entry `json:"entries"`
	// Next is the cursor of the next (older) page, "" when there is none.
	Next string `json:"next"`
}

const (
	defaultStatementLimit = 100
	maxStatementLimit     = 1000
	// maxStatementScan bounds the index keys one page may skip over when a
	// time range filters most of them out; the page then ends early with a
	// cursor.
	maxStatementScan = 200_000
)

func encodeCursor(seq uint64) string { return "s" + strconv.FormatUint(seq, 36) }

func decodeCursor(c string) (uint64, error) {
	if len(c) < 2 || c[0] != 's' {
		return 0, fmt.Errorf("ledger: bad cursor %q", c)
	}
	s, err := strconv.ParseUint(c[1:], 36, 64)
	if err != nil || s == 0 {
		return 0, fmt.Errorf("ledger: bad cursor %q", c)
	}
	return s, nil
}

// Statement returns a page of the member's entries (those touching any of
// its accounts), newest (highest seq) first, optionally restricted to
// [FromMS, ToMS). ErrNotFound for an unknown member.
func (l *Ledger) Statement(member string, q StatementQuery) (StatementPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultStatementLimit
	}
	limit = min(limit, maxStatementLimit)
	from, to := q.FromMS, q.ToMS
	if from == 0 && to == 0 {
		from = math.MinInt64
	}
	if to == 0 {
		to = math.MaxInt64
	}
	if to <= from {
		return StatementPage{}, fmt.Errorf("ledger: empty time range [%d, %d)", from, to)
	}
	var below uint64 = math.MaxUint64
	if q.Cursor != "" {
		var err error
		if below, err = decodeCursor(q.Cursor); err != nil {
			return StatementPage{}, err
		}
	}
	snap := l.db.NewSnapshot()
	defer snap.Close()
	id, ok, err := l.ownerID(snap, nsMember, member)
	if err != nil {
		return StatementPage{}, err
	}
	if !ok {
		return StatementPage{}, ErrNotFound
	}
	lo, hi := memberIxBounds(id)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return StatementPage{}, err
	}
	defer it.Close()
	var valid bool
	if below == math.MaxUint64 {
		valid = it.Last()
	} else {
		valid = it.SeekLT(memberIxKey(nil, id, below))
	}
	seqs := make([]uint64, 0, limit)
	var page StatementPage
	for scanned := 0; valid; valid = it.Prev() {
		k := it.Key()
		if len(k) != 13 {
			return page, fmt.Errorf("%w: member index key %x", ErrCorrupt, k)
		}
		seq := binary.BigEndian.Uint64(k[5:])
		if len(seqs) == limit || scanned == maxStatementScan {
			// Everything above this (unprocessed) key is done: continue at it.
			page.Next = encodeCursor(seq + 1)
			break
		}
		scanned++
		m, err := decodeMemberIx(it.Value())
		if err != nil {
			return page, fmt.Errorf("%w: member index %x: %v", ErrCorrupt, k, err)
		}
		if m.MaxAtMS < from {
			break // every older entry is dated <= MaxAtMS < from
		}
		if m.AtMS >= from && m.AtMS < to {
			seqs = append(seqs, seq)
		}
	}
	if err := it.Error(); err != nil {
		return page, err
	}
	br, err := newBlockReader(snap)
	if err != nil {
		return page, err
	}
	defer br.close()
	page.Entries = make([]Entry, 0, len(seqs))
	for _, s := range seqs {
		raw, err := br.get(s)
		if err != nil {
			return page, err
		}
		e, err := l.entry(snap, raw)
		if err != nil {
			return page, err
		}
		page.Entries = append(page.Entries, e)
	}
	return page, nil
}

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

// maxCommandEntries bounds CommandEntries.
const maxCommandEntries = 1 << 20

// CommandEntries returns the entries written under a command id, in seq
// order (empty, no error, for an unknown command).
func (l *Ledger) CommandEntries(commandID string) ([]Entry, error) {
	snap := l.db.NewSnapshot()
	defer snap.Close()
	p := commandPrefix(commandID)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: upperBound(p)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	br, err := newBlockReader(snap)
	if err != nil {
		return nil, err
	}
	defer br.close()
	var out []Entry
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		n, w := binary.Uvarint(it.Value())
		if len(k) != len(p)+8 || w <= 0 || n == 0 || n > maxCommandEntries {
			return out, fmt.Errorf("%w: command index %x", ErrCorrupt, k)
		}
		seq := binary.BigEndian.Uint64(k[len(p):])
		if len(out)+int(n) > maxCommandEntries {
			return out, fmt.Errorf("ledger: command %q has more than %d entries", commandID, maxCommandEntries)
		}
		for i := uint64(0); i < n; i++ {
			raw, err := br.get(seq + i)
			if err != nil {
				return out, err
			}
			if raw.CommandID != commandID {
				return out, fmt.Errorf("%w: command index %q points at seq %d of command %q", ErrCorrupt, commandID, seq+i, raw.CommandID)
			}
			e, err := l.entry(snap, raw)
			if err != nil {
				return out, err
			}
			out = append(out, e)
		}
	}
	return out, it.Error()
}

// PartnerFigures are a partner's settlement figures over a period.
// Net = Issued - ClawedBack - Redeemed + Returned: what the partner owes
// the program (positive) or is owed (negative) in points.
type PartnerFigures struct {
	Issued     int64 `json:"issued"`      // earn + reward entries crediting partner:<p>:issued
	ClawedBack int64 `json:"clawed_back"` // clawback entries debiting partner:<p>:issued
	Redeemed   int64 `json:"redeemed"`    // redeem + capture entries debiting partner:<p>:redeemed
	Returned   int64 `json:"returned"`    // cancel entries crediting partner:<p>:redeemed
	Net        int64 `json:"net"`
}

func (f *PartnerFigures) add(o PartnerFigures) {
	f.Issued += o.Issued
	f.ClawedBack += o.ClawedBack
	f.Redeemed += o.Redeemed
	f.Returned += o.Returned
	f.Net = f.Issued - f.ClawedBack - f.Redeemed + f.Returned
}

// PartnerDay is one UTC day of a partner's settlement.
type PartnerDay struct {
	Day     string `json:"day"`      // "2006-01-02"
	StartMS int64  `json:"start_ms"` // the day's 00:00 UTC
	PartnerFigures
}

// PartnerSettlement is one partner's part of a settlement report.
type PartnerSettlement struct {
	Partner string `json:"partner"`
	PartnerFigures
	Days []PartnerDay `json:"days"` // ascending, days without figures omitted
}

// SettlementReport covers the entries dated in [FromMS, ToMS).
type SettlementReport struct {
	FromMS, ToMS int64
	Partners     []PartnerSettlement // sorted by partner id
	// Breakage is the points expired to operator:breakage in the period
	// (net of any entries moving points back out of it).
	Breakage int64
	// BreakageTotal is the balance of operator:breakage as of AsOfSeq.
	BreakageTotal int64
	// Outstanding is the program's outstanding liability: the sum of all
	// member accounts as of AsOfSeq (the whole ledger, not the period).
	Outstanding int64
	AsOfSeq     uint64
}

// Settlement reports, per partner, the points issued, clawed back, redeemed
// and returned by cancellations over entries dated in [fromMS, toMS), with a
// daily (UTC) breakdown, plus program-wide breakage and outstanding
// liability. It reads only the blocks the day index names for the period.
func (l *Ledger) Settlement(fromMS, toMS int64) (SettlementReport, error) {
	rep := SettlementReport{FromMS: fromMS, ToMS: toMS}
	if toMS <= fromMS {
		return rep, fmt.Errorf("ledger: empty settlement period [%d, %d)", fromMS, toMS)
	}
	snap := l.db.NewSnapshot()
	defer snap.Close()
	m, _, err := readMeta(snap)
	if err != nil {
		return rep, err
	}
	rep.AsOfSeq = m.LastSeq
	// Balances: member accounts sum to minus the partner and operator ones.
	if err := scanBalances(snap, func(code uint64, bal int64) error {
		rep.Outstanding -= bal
		if code == acctCode(0, AccountOperatorBreakage) {
			rep.BreakageTotal = bal
		}
		return nil
	}); err != nil {
		return rep, err
	}

	d0, d1 := dayOf(fromMS), dayOf(toMS-1)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: dayKey(d0, 0), UpperBound: dayKey(d1, math.MaxUint64)})
	if err != nil {
		return rep, err
	}
	defer it.Close()
	br, err := newBlockReader(snap)
	if err != nil {
		return rep, err
	}
	defer br.close()
	type pday struct {
		id  uint32
		day int64
	}
	figs := map[pday]*PartnerFigures{}
	fig := func(id uint32, day int64) *PartnerFigures {
		f := figs[pday{id, day}]
		if f == nil {
			f = &PartnerFigures{}
			figs[pday{id, day}] = f
		}
		return f
	}
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != 17 {
			return rep, fmt.Errorf("%w: day key %x", ErrCorrupt, k)
		}
		day := int64(binary.BigEndian.Uint64(k[1:]) ^ (1 << 63))
		seq := binary.BigEndian.Uint64(k[9:])
		if _, err := br.get(seq); err != nil {
			return rep, err
		}
		if br.firstSeq != seq {
			return rep, fmt.Errorf("%w: day key %x names no block", ErrCorrupt, k)
		}
		for i := range br.raws {
			e := &br.raws[i]
			if dayOf(e.AtMS) != day || e.AtMS < fromMS || e.AtMS >= toMS {
				continue
			}
			dk, ck := codeKind(e.Debit), codeKind(e.Credit)
			switch {
			case (e.Kind == KindEarn || e.Kind == KindReward) && ck == AccountPartnerIssued:
				fig(codeOwner(e.Credit), day).Issued += e.Points
			case e.Kind == KindClawback && dk == AccountPartnerIssued:
				fig(codeOwner(e.Debit), day).ClawedBack += e.Points
			case (e.Kind == KindRedeem || e.Kind == KindCapture) && dk == AccountPartnerRedeemed:
				fig(codeOwner(e.Debit), day).Redeemed += e.Points
			case e.Kind == KindCancel && ck == AccountPartnerRedeemed:
				fig(codeOwner(e.Credit), day).Returned += e.Points
			}
			if dk == AccountOperatorBreakage {
				rep.Breakage += e.Points
			}
			if ck == AccountOperatorBreakage {
				rep.Breakage -= e.Points
			}
		}
	}
	if err := it.Error(); err != nil {
		return rep, err
	}
	byPartner := map[uint32]*PartnerSettlement{}
	for k, f := range figs {
		ps := byPartner[k.id]
		if ps == nil {
			name, err := l.ownerName(snap, k.id)
			if err != nil {
				return rep, err
			}
			ps = &PartnerSettlement{Partner: name}
			byPartner[k.id] = ps
		}
		f.Net = f.Issued - f.ClawedBack - f.Redeemed + f.Returned
		ps.PartnerFigures.add(*f)
		start := k.day * dayMS
		ps.Days = append(ps.Days, PartnerDay{Day: time.UnixMilli(start).UTC().Format(time.DateOnly), StartMS: start, PartnerFigures: *f})
	}
	for _, ps := range byPartner {
		sort.Slice(ps.Days, func(i, j int) bool { return ps.Days[i].StartMS < ps.Days[j].StartMS })
		rep.Partners = append(rep.Partners, *ps)
	}
	sort.Slice(rep.Partners, func(i, j int) bool { return rep.Partners[i].Partner < rep.Partners[j].Partner })
	return rep, nil
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
