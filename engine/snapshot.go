package engine

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Snapshot format: a magic and version, then every table of the engine in
// a fixed order, integers as varints. Ids are written in record order (not
// map order), so the same state always gives the same bytes. The version
// records the engine's mode: a keep-all engine writes version 2 with every
// command record; a store-backed one writes version 3, where the record,
// purchase and redemption tables are replaced by the count of records ever
// made (the records are in the caller's store), so that the snapshot is the
// same whatever the resident window. Versions 4 and 5 are 2 and 3 with
// SPEC §10's state: rewards claimed and budgets spent after the partner
// totals, a challenge's categories, a member's offers and day counters,
// and a claim's reward in its redemption row. Versions 6 and 7 are 4 and 5
// with dropped lots (lots.go): the engine's keepLots flag after the
// program, a member's lotBase after its lots, and a part's expiry after its
// points. Versions 8 and 9 are 6 and 7 without the tick queue, whose items
// earlier versions list at the end: Restore rebuilds it from the members
// (due.go). Restore reads all eight; an engine restored from a version
// before 6 keeps every lot (its store may hold format 1 record values) and
// dates its parts from their lots.
const (
	snapshotMagic = "ACCRUALS"
	// Versions 2 … 7 are read only.
	snapshotVersionV2            = 2
	snapshotVersionStoreBackedV2 = 3
	snapshotVersionV4            = 4
	snapshotVersionStoreBackedV4 = 5
	snapshotVersionV6            = 6
	snapshotVersionStoreBackedV6 = 7
	snapshotVersion              = 8
	// snapshotVersionStoreBacked is version 8 without the records.
	snapshotVersionStoreBacked = 9
	// maxSnapshotCount bounds every table length read back, so a corrupt
	// snapshot cannot make Restore allocate without limit.
	maxSnapshotCount = 1 << 34
)

type snapWriter struct {
	w   *bufio.Writer
	buf [binary.MaxVarintLen64]byte
	err error
}

func (s *snapWriter) i(v int64) {
	n := binary.PutVarint(s.buf[:], v)
	if _, err := s.w.Write(s.buf[:n]); err != nil && s.err == nil {
		s.err = err
	}
}

func (s *snapWriter) u(v uint64) {
	n := binary.PutUvarint(s.buf[:], v)
	if _, err := s.w.Write(s.buf[:n]); err != nil && s.err == nil {
		s.err = err
	}
}

func (s *snapWriter) str(v string) {
	s.u(uint64(len(v)))
	if _, err := s.w.WriteString(v); err != nil && s.err == nil {
		s.err = err
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Snapshot writes the whole engine state to w.
func (e *Engine) Snapshot(w io.Writer) error {
	s := &snapWriter{w: bufio.NewWriterSize(w, 1<<16)}
	s.w.WriteString(snapshotMagic)
	if e.res.storeBacked {
		s.u(snapshotVersionStoreBacked)
	} else {
		s.u(snapshotVersion)
	}
	s.str(string(e.prog.Source))
	if e.next != nil {
		s.u(1)
		s.str(string(e.next.Source))
		s.i(e.nextAtMS)
	} else {
		s.u(0)
	}
	s.u(uint64(boolInt(e.keepLots)))
	s.i(e.clockMS)
	s.i(e.breakage)
	s.i(e.adjustments)
	s.i(e.rewards)
	for k := range e.prog.Partners {
		s.i(e.partnerIssued[k])
		s.i(e.partnerRedeemed[k])
	}
	s.u(uint64(len(e.claimed)))
	for _, n := range e.claimed {
		s.i(n)
	}
	s.u(uint64(len(e.budgets.ids)))
	for k, id := range e.budgets.ids {
		s.str(id)
		s.i(e.budgets.spent[k])
	}
	s.u(uint64(e.members.len()))
	for k := 0; k < e.members.len(); k++ {
		s.member(e, e.members.at(int32(k)))
	}
	e.writeTables(s)
	s.w.WriteString(snapshotMagic)
	if s.err != nil {
		return s.err
	}
	return s.w.Flush()
}

func (s *snapWriter) member(e *Engine, m *member) {
	s.str(e.nameOf(m))
	for _, v := range [...]int64{m.debt(), m.get(bAvail), m.get(bPending), m.held(), m.get(bEarned), m.get(bRedeemed), m.expiredPoints(),
		m.get(bMetric), m.get(bMonthEarned), m.lastActivityMS, int64(m.liveFrom), m.year(), int64(m.month),
		int64(m.carried), boolInt(m.firstDone()), int64(m.pendFrom), boolInt(m.unsorted())} {
		s.i(v)
	}
	s.u(uint64(len(m.lots())))
	for _, l := range m.lots() {
		s.i(l.points)
		s.i(l.matureAtMS)
		s.i(l.expiresAtMS)
	}
	s.i(int64(m.lotBase))
	if m.ext == nil || !m.ext.sec9 {
		s.u(0)
		return
	}
	x := m.ext
	s.u(1)
	s.i(x.planUntilMS)
	s.i(int64(x.plan))
	s.i(int64(x.referrer))
	s.u(uint64(len(x.holds)))
	for _, h := range x.holds {
		s.u(uint64(h))
	}
	s.u(uint64(len(x.challenges)))
	for _, c := range x.challenges {
		s.i(c.purchases)
		s.i(boolInt(c.done))
		s.u(uint64(len(c.partners)))
		for _, p := range c.partners {
			s.i(int64(p))
		}
		s.u(uint64(len(c.categories)))
		for _, cat := range c.categories {
			s.str(cat)
		}
	}
	s.u(uint64(len(x.actions)))
	for _, a := range x.actions {
		s.i(int64(a.month))
		s.i(int64(a.count))
	}
	if x.retail == nil {
		s.u(0)
		return
	}
	r := x.retail
	s.u(1)
	s.u(uint64(len(r.offers)))
	for _, until := range r.offers {
		s.i(until)
	}
	s.i(int64(r.day))
	s.i(int64(r.dayPurchases))
	s.i(r.dayEarned)
}

// writeTables writes every table after the members: command records (or
// their count, store-backed), holds and lot parts.
func (e *Engine) writeTables(s *snapWriter) {
	if e.res.storeBacked {
		s.u(uint64(e.res.made))
	} else {
		e.writeRecords(s)
	}
	s.u(uint64(e.holds.len()))
	for k := 0; k < e.holds.len(); k++ {
		h := e.holds.at(int32(k))
		for _, v := range [...]int64{h.points, h.deadlineMS, int64(h.partsOff), int64(h.partsLen), int64(h.member), int64(h.partner), boolInt(h.open)} {
			s.i(v)
		}
	}
	s.u(uint64(len(e.parts)))
	for _, p := range e.parts {
		s.u(uint64(p.lot))
		s.i(p.points)
		s.i(p.expiresAtMS)
	}
}

// writeRecords writes a keep-all engine's command records (ids in record
// order: recs[i] belongs to ids[i]), purchases and redemptions.
func (e *Engine) writeRecords(s *snapWriter) {
	s.u(uint64(e.recs.len()))
	for k := 0; k < e.recs.len(); k++ {
		r := e.recs.at(int32(k))
		s.str(r.id)
		s.u(r.hash)
		for _, v := range [...]int64{r.points, r.available, r.pending, r.held, int64(r.ref), int64(r.member),
			int64(r.typ), int64(r.err), int64(r.tier)} {
			s.i(v)
		}
	}
	s.u(uint64(e.buys.len()))
	for k := 0; k < e.buys.len(); k++ {
		b := e.buys.at(int32(k))
		for _, v := range [...]int64{b.amount, b.points, b.refunded, int64(b.member), int64(b.partner), int64(b.lot)} {
			s.i(v)
		}
	}
	s.u(uint64(e.redeems.len()))
	for k := 0; k < e.redeems.len(); k++ {
		r := e.redeems.at(int32(k))
		for _, v := range [...]int64{r.points, int64(r.partsOff), int64(r.partsLen), int64(r.member), int64(r.partner), boolInt(r.cancelled), int64(r.reward)} {
			s.i(v)
		}
	}
}

type snapReader struct {
	r      *bufio.Reader
	err    error
	retail bool // version 4 or later: SPEC §10's state is there
	dated  bool // version 6 or later: lot bases and part expiries are there
	queued bool // before version 8: the tick queue's items end the tables
}

func (s *snapReader) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

func (s *snapReader) i() int64 {
	v, err := binary.ReadVarint(s.r)
	if err != nil {
		s.fail(err)
	}
	return v
}

func (s *snapReader) u() uint64 {
	v, err := binary.ReadUvarint(s.r)
	if err != nil {
		s.fail(err)
	}
	return v
}

func (s *snapReader) n() int {
	v := s.u()
	if v > maxSnapshotCount {
		s.fail(fmt.Errorf("engine snapshot: table of %d rows exceeds the bound", v))
		return 0
	}
	return int(v)
}

func (s *snapReader) i32() int32 {
	v := s.i()
	if v < math.MinInt32 || v > math.MaxInt32 {
		s.fail(errors.New("engine snapshot: value out of range"))
	}
	return int32(v)
}

func (s *snapReader) bytes() []byte {
	n := s.n()
	if s.err != nil || n > 1<<30 {
		s.fail(errors.New("engine snapshot: string too long"))
		return nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(s.r, b); err != nil {
		s.fail(err)
	}
	return b
}

func (s *snapReader) magic() {
	var b [len(snapshotMagic)]byte
	if _, err := io.ReadFull(s.r, b[:]); err != nil || string(b[:]) != snapshotMagic {
		s.fail(errors.New("engine snapshot: bad magic"))
	}
}

// Restore rebuilds an engine from a snapshot, with the program (and any
// scheduled program change) stored in it. Given a *bufio.Reader of at
// least 64 KiB it reads through it and stops at the snapshot's last byte,
// so a caller can frame more data after it.
func Restore(r io.Reader) (*Engine, error) {
	s := &snapReader{r: bufio.NewReaderSize(r, 1<<16)}
	p, next, nextAt, storeBacked, err := s.programs()
	if err != nil {
		return nil, err
	}
	e := NewWithOptions(p, Options{StoreBacked: storeBacked})
	e.next, e.nextAtMS = next, nextAt
	e.keepLots = !s.dated || s.u() == 1
	e.clockMS = s.i()
	e.breakage, e.adjustments, e.rewards = s.i(), s.i(), s.i()
	for k := range p.Partners {
		e.partnerIssued[k] = s.i()
		e.partnerRedeemed[k] = s.i()
	}
	if s.retail {
		e.readRetail(s)
	}
	nm := s.n()
	for k := 0; k < nm && s.err == nil; k++ {
		m, name := s.member(&e.names, &e.mnames)
		e.byName.insert(name, e.members.add(m))
	}
	e.readTables(s)
	s.magic()
	if s.err != nil {
		return nil, fmt.Errorf("engine snapshot: %w", s.err)
	}
	if err := e.check(); err != nil {
		return nil, err
	}
	if !s.dated {
		e.dateParts()
	}
	e.requeueAll()
	return e, nil
}

// programs reads the header: the magic, the version (the mode), the
// program and any scheduled program change with its time.
func (s *snapReader) programs() (p, next *Program, nextAt int64, storeBacked bool, err error) {
	s.magic()
	v := s.u()
	if s.err == nil && (v < snapshotVersionV2 || v > snapshotVersionStoreBacked) {
		return nil, nil, 0, false, fmt.Errorf("engine snapshot: version %d, want %d … %d", v, snapshotVersionV2, snapshotVersionStoreBacked)
	}
	storeBacked = v%2 == 1
	s.retail = v >= snapshotVersionV4
	s.dated = v >= snapshotVersionV6
	s.queued = v < snapshotVersion
	src := s.bytes()
	if s.err != nil {
		return nil, nil, 0, false, s.err
	}
	if p, err = ParseProgram(src); err != nil {
		return nil, nil, 0, false, fmt.Errorf("engine snapshot: its program: %w", err)
	}
	if s.u() == 1 {
		nsrc := s.bytes()
		nextAt = s.i()
		if s.err != nil {
			return nil, nil, 0, false, s.err
		}
		if next, err = ParseProgram(nsrc); err != nil {
			return nil, nil, 0, false, fmt.Errorf("engine snapshot: its scheduled program: %w", err)
		}
		if err := Compatible(p, next); err != nil {
			return nil, nil, 0, false, fmt.Errorf("engine snapshot: its scheduled program: %w", err)
		}
	}
	return p, next, nextAt, storeBacked, nil
}

// member reads one member, storing its id in mnames (and its challenge
// categories in names); it returns the id too.
func (s *snapReader) member(names *arena, mnames *nameStore) (member, []byte) {
	var m member
	name := s.bytes()
	if len(name) == 0 || len(name) > math.MaxUint8 {
		s.fail(errors.New("engine snapshot: member id empty or longer than 255 bytes"))
		return m, nil
	}
	m.setName(mnames.add(name))
	var v [nBal]int64
	debt, held := s.i(), int64(0)
	v[bAvail], v[bPending], held, v[bEarned], v[bRedeemed] = s.i(), s.i(), s.i(), s.i(), s.i()
	_ = s.i() // expired: the balance identity gives it (member.expiredPoints)
	v[bMetric], v[bMonthEarned], m.lastActivityMS = s.i(), s.i(), s.i()
	m.liveFrom = s.i32()
	if y := s.i32(); y >= 0 && y <= 9999 {
		m.setYear(int64(y))
	} else {
		s.fail(errors.New("engine snapshot: member year out of range"))
	}
	m.month = s.i32()
	m.carried = uint8(s.i())
	if s.i() == 1 {
		m.yf |= memberFirstDone
	}
	m.pendFrom = s.i32()
	if s.i() == 1 {
		m.yf |= memberUnsorted
	}
	nl := s.n()
	lots := make([]lot, 0, min(nl, 1<<16))
	for j := 0; j < nl && s.err == nil; j++ {
		lots = append(lots, lot{points: s.i(), matureAtMS: s.i(), expiresAtMS: s.i()})
	}
	m.setLots(lots)
	if s.dated {
		m.lotBase = s.i32()
	}
	if s.u() == 1 {
		m.ext = s.memberExt(names)
	}
	for b, x := range v {
		m.set(bal(b), x)
	}
	if debt != 0 || held != 0 {
		m.spare().debt, m.spare().held = debt, held
	}
	return m, name
}

func (s *snapReader) memberExt(names *arena) *memberExt {
	x := &memberExt{sec9: true}
	x.planUntilMS, x.plan, x.referrer = s.i(), s.i32(), s.i32()
	for j, nh := 0, s.n(); j < nh && s.err == nil; j++ {
		x.holds = append(x.holds, uint32(s.u()))
	}
	for j, nc := 0, s.n(); j < nc && s.err == nil; j++ {
		c := challengeProgress{purchases: s.i(), done: s.i() == 1}
		for q, np := 0, s.n(); q < np && s.err == nil; q++ {
			c.partners = append(c.partners, s.i32())
		}
		for q, nc := 0, s.retailN(); q < nc && s.err == nil; q++ {
			c.categories = append(c.categories, names.str(s.bytes()))
		}
		x.challenges = append(x.challenges, c)
	}
	for j, na := 0, s.n(); j < na && s.err == nil; j++ {
		x.actions = append(x.actions, actionCount{month: s.i32(), count: s.i32()})
	}
	if s.retailN() == 1 {
		r := &memberRetail{}
		for j, no := 0, s.n(); j < no && s.err == nil; j++ {
			r.offers = append(r.offers, s.i())
		}
		r.day, r.dayPurchases, r.dayEarned = s.i32(), s.i32(), s.i()
		x.retail = r
	}
	return x
}

// retailN reads a count that only versions 4 and 5 write (0 before).
func (s *snapReader) retailN() int {
	if !s.retail {
		return 0
	}
	return s.n()
}

// readRetail reads SPEC §10's program-wide state: rewards claimed and
// budgets spent.
func (e *Engine) readRetail(s *snapReader) {
	nc := s.n()
	if nc > maxRewards+len(e.prog.Rewards) {
		s.fail(fmt.Errorf("engine snapshot: %d rewards claimed, the program has %d", nc, len(e.prog.Rewards)))
		return
	}
	for len(e.claimed) < nc {
		e.claimed = append(e.claimed, 0)
	}
	for k := 0; k < nc && s.err == nil; k++ {
		e.claimed[k] = s.i()
	}
	for k, nb := 0, s.n(); k < nb && s.err == nil; k++ {
		e.budgets.ids = append(e.budgets.ids, e.names.str(s.bytes()))
		e.budgets.spent = append(e.budgets.spent, s.i())
	}
}

// readTables reads what writeTables wrote.
func (e *Engine) readTables(s *snapReader) {
	if e.res.storeBacked {
		e.res.made = s.n()
	} else {
		e.readRecords(s)
	}
	for k, n := 0, s.n(); k < n && s.err == nil; k++ {
		e.holds.add(holdRec{points: s.i(), deadlineMS: s.i(), partsOff: uint32(s.i()), partsLen: uint32(s.i()), member: s.i32(), partner: s.i32(), open: s.i() == 1})
	}
	for k, n := 0, s.n(); k < n && s.err == nil; k++ {
		p := part{lot: uint32(s.u()), points: s.i()}
		if s.dated {
			p.expiresAtMS = s.i()
		}
		e.parts = append(e.parts, p)
	}
	if s.queued {
		// The old tick queue: Restore rebuilds it from the members.
		for k, n := 0, s.n(); k < n && s.err == nil; k++ {
			s.i()
			s.i32()
		}
	}
}

// readRecords reads what writeRecords wrote. The snapshot keeps no
// positions: its records are stamped at position 0, and a refunded
// purchase's history is one refund at 0.
func (e *Engine) readRecords(s *snapReader) {
	nr := s.n()
	for k := 0; k < nr && s.err == nil; k++ {
		id := e.names.str(s.bytes())
		r := record{id: id}
		r.hash = s.u()
		r.points, r.available, r.pending, r.held = s.i(), s.i(), s.i(), s.i()
		r.ref, r.member = s.i32(), s.i32()
		r.typ, r.err, r.tier = CommandType(s.i()), ErrorCode(s.i()), uint8(s.i())
		e.ids.insert([]byte(id), e.recs.add(r))
	}
	e.res.made = e.recs.len()
	for k, n := 0, s.n(); k < n && s.err == nil; k++ {
		b := purchaseRec{amount: s.i(), points: s.i(), refunded: s.i(), member: s.i32(), partner: s.i32(), lot: s.i32(), lastRefund: -1}
		if b.refunded != 0 {
			b.lastRefund = e.refunds.add(refundEvent{after: b.refunded, prev: -1})
		}
		e.buys.add(b)
	}
	for k, n := 0, s.n(); k < n && s.err == nil; k++ {
		rd := redemptionRec{points: s.i(), partsOff: uint32(s.i()), partsLen: uint32(s.i()), member: s.i32(), partner: s.i32(), cancelled: s.i() == 1}
		if s.retail {
			rd.reward = s.i32()
		}
		e.redeems.add(rd)
	}
}
