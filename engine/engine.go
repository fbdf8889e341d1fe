package engine

import (
	"math"
	"math/big"
	"math/bits"
)

// bound is SPEC §6's limit for every balance and counter: ±2^62.
const bound = int64(1) << 62

// Engine is the deterministic state machine of one program. It is not safe
// for concurrent use: the caller serialises Apply.
type Engine struct {
	prog     *Program
	next     *Program // a scheduled program change (change.go)
	nextAtMS int64
	clockMS  int64
	members  chunked[member]
	byName   hashIndex // member id → index into members
	ids      hashIndex // command id → index into recs
	recs     chunked[record]
	buys     chunked[purchaseRec]
	redeems  chunked[redemptionRec]
	holds    chunked[holdRec]
	parts    []part
	due      dueHeap
	names    arena
	// partner and operator account balances, for the overflow check
	partnerIssued   []int64
	partnerRedeemed []int64
	breakage        int64
	adjustments     int64
	rewards         int64

	// per-Apply context
	epoch   uint32
	touched []int32
	out     []Entry
	cmdID   string
	emit    bool

	// catch-up log of tryBring
	undoing      bool
	undoMember   member
	undoLots     []lotUndo
	undoHolds    []uint32
	undoHoldList []uint32
	undoOut      int
	undoBreakage int64

	// scratch for views and lot ordering
	viewM    member
	viewLots []lot
	order    []int32
}

// New returns an engine for a program with no members.
func New(p *Program) *Engine {
	return &Engine{
		prog:            p,
		clockMS:         math.MinInt64,
		byName:          newHashIndex(),
		ids:             newHashIndex(),
		partnerIssued:   make([]int64, len(p.Partners)),
		partnerRedeemed: make([]int64, len(p.Partners)),
		emit:            true,
	}
}

// Program returns the engine's program.
func (e *Engine) Program() *Program { return e.prog }

// ClockMS returns the engine clock (SPEC §1); 0 before any command.
func (e *Engine) ClockMS() int64 {
	if e.clockMS == math.MinInt64 {
		return 0
	}
	return e.clockMS
}

// Members returns the number of members.
func (e *Engine) Members() int { return e.members.len() }

// Apply applies a batch of decoded commands in order, appending one result per
// command to results and the ledger entries they produce to entries.
func (e *Engine) Apply(cmds []Command, results []Result, entries []Entry) ([]Result, []Entry) {
	e.out = entries
	e.epoch++
	e.touched = e.touched[:0]
	for i := range cmds {
		results = append(results, e.apply(&cmds[i]))
	}
	entries = e.out
	e.out = nil
	return results, entries
}

func (e *Engine) effectiveTime(c *Command) int64 {
	t := e.clockMS
	if c.HasAt() && c.AtMS > t {
		t = c.AtMS
	}
	if t == math.MinInt64 {
		t = 0
	}
	return t
}

func (e *Engine) apply(c *Command) Result {
	if c.Invalid {
		return Result{ID: c.ID, HasID: true, Err: ErrInvalid}
	}
	t := e.effectiveTime(c)
	if c.Type == TypeQuote || e.next == nil || t < e.nextAtMS {
		return e.applyAt(c, t)
	}
	// A scheduled program takes effect with this command, unless the command
	// changes nothing (rejected, or a duplicate): then a later command may
	// still run before the change's time.
	prev, next := e.prog, e.next
	e.switchProgram(t)
	r := e.applyAt(c, t)
	if c.Type != TypeTick && (r.Err != OK || r.Duplicate) {
		e.prog, e.next = prev, next
	}
	return r
}

func (e *Engine) applyAt(c *Command, t int64) Result {
	switch c.Type {
	case TypeTick:
		e.cmdID = ""
		if c.HasID() {
			e.cmdID = string(c.ID)
		}
		e.tick(t)
		e.clockMS = t
		return Result{ID: c.ID, HasID: c.HasID(), Shape: shapeTick}
	case TypeQuote:
		return e.quote(c, t)
	}
	if ri, ok := e.ids.find(idKeys{e}, c.ID); ok {
		r := e.recs.at(ri)
		if r.hash != c.Hash {
			return Result{ID: c.ID, HasID: true, Err: ErrIDConflict}
		}
		return Result{ID: c.ID, HasID: true, Err: r.err, Duplicate: true, Tier: r.tier,
			Points: r.points, Available: r.available, Pending: r.pending, Held: r.held}
	}
	e.cmdID = e.names.str(c.ID)
	ri := e.recs.add(record{id: e.cmdID, hash: c.Hash, typ: c.Type, ref: -1, member: -1})
	e.ids.insert(idKeys{e}, c.ID, ri)
	mi, before, err := e.execute(c, t, ri)
	r := e.recs.at(ri)
	r.err = err
	res := Result{ID: c.ID, HasID: true, Err: err}
	if err != OK {
		return res
	}
	e.clockMS = t
	m := e.members.at(mi)
	res.Tier = e.tierOf(m)
	res.Available, res.Pending, res.Held = m.available(), m.pending, m.held
	res.Points = m.available() + m.pending - before
	r.member, r.tier, r.points, r.available, r.pending, r.held = mi, res.Tier, res.Points, res.Available, res.Pending, res.Held
	return res
}

// execute runs an accepted-so-far command. It returns the member whose state
// the result shows and that member's available+pending before the command
// (after its lifecycle catch-up).
func (e *Engine) execute(c *Command, t int64, ri int32) (int32, int64, ErrorCode) {
	switch c.Type {
	case TypePurchase:
		return e.purchase(c, t, ri)
	case TypeRefund:
		return e.refund(c, t)
	case TypeRedeem:
		return e.redeem(c, t, ri)
	case TypeCancelRedemption:
		return e.cancel(c, t)
	case TypeAdjust:
		return e.adjust(c, t)
	case TypeMembership:
		return e.membership(c, t)
	case TypeReferral:
		return e.referral(c, t)
	case TypeAction:
		return e.action(c, t)
	case TypeTransfer:
		return e.transfer(c, t)
	case TypeHold:
		return e.hold(c, t, ri)
	case TypeCapture, TypeRelease:
		return e.closeHold(c, t, ri)
	}
	return -1, 0, ErrInvalid
}

func fits(v int64) bool { return v >= -bound && v <= bound }

// add reports whether a+b stays within ±2^62 (both already within it).
func addFits(a, b int64) bool { return fits(a + b) }

// idKeys and memberKeys let the indexes read keys back from the engine.
type idKeys struct{ e *Engine }

func (k idKeys) keyOf(v int32) string { return k.e.recs.at(v).id }

type memberKeys struct{ e *Engine }

func (k memberKeys) keyOf(v int32) string { return k.e.members.at(v).name }

func (e *Engine) lookup(name []byte) int32 {
	if i, ok := e.byName.find(memberKeys{e}, name); ok {
		return i
	}
	return -1
}

func (e *Engine) create(name []byte, t int64) int32 {
	s := e.names.str(name)
	mi := e.members.add(member{
		name:           s,
		year:           int32(yearOf(t)),
		month:          int32(monthKey(t)),
		lastActivityMS: t,
	})
	e.byName.insert(memberKeys{e}, name, mi)
	e.touch(e.members.at(mi), mi)
	return mi
}

func (e *Engine) touch(m *member, mi int32) {
	if m.touched != e.epoch {
		m.touched = e.epoch
		e.touched = append(e.touched, mi)
	}
}

// Touched returns the members the last Apply touched (read them with View
// before the next Apply).
func (e *Engine) Touched() []int32 { return e.touched }

func (e *Engine) lookupOrCreate(name []byte, t int64) int32 {
	if mi := e.lookup(name); mi >= 0 {
		return mi
	}
	return e.create(name, t)
}

func (e *Engine) ext(m *member) *memberExt {
	if m.ext == nil {
		m.ext = &memberExt{plan: -1, referrer: -1}
	}
	return m.ext
}

func (e *Engine) record(kind EntryKind, atMS int64, debit, credit Account, points int64) {
	if !e.emit || points == 0 {
		return
	}
	assert(points > 0, "ledger entry points must be positive")
	e.out = append(e.out, Entry{AtMS: atMS, CommandID: e.cmdID, Points: points, Kind: kind, Debit: debit, Credit: credit})
}

func assert(ok bool, msg string) {
	if !ok {
		panic("engine: assertion failed: " + msg)
	}
}

// ---- tiers, lifecycle ----

func (e *Engine) tierOf(m *member) uint8 {
	lv := uint8(e.prog.levelFor(m.metric))
	if m.carried > lv {
		return m.carried
	}
	return lv
}

// bring brings member mi to time t (SPEC §4 steps 1, 1b, 2, 3, 4).
func (e *Engine) bring(mi int32, t int64) {
	m := e.members.at(mi)
	e.touch(m, mi)
	e.mature(m, mi, t)
	e.releaseDue(m, mi, t)
	e.repayDebt(m)
	e.expire(m, mi, t)
	e.rollYear(m, t)
}

// setLot changes a lot, logging its old value while a catch-up may still be
// rolled back.
func (e *Engine) setLot(m *member, i int, l lot) {
	if e.undoing {
		e.undoLots = append(e.undoLots, lotUndo{idx: int32(i), old: m.lots[i]})
	}
	m.lots[i] = l
}

// Pending lots mature in index order: they are created at non-decreasing
// times with the same pending_days (referral lots share their purchase's
// date), and every other lot is available at once. So maturation stops at
// the first pending lot not yet due, and costs what falls due.
func (e *Engine) mature(m *member, mi int32, t int64) {
	i := int(m.pendFrom)
	for ; i < len(m.lots); i++ {
		l := m.lots[i]
		if !l.pending() {
			continue
		}
		if l.matureAtMS > t {
			break
		}
		e.record(KindMature, l.matureAtMS, memberAcct(AccountMemberAvailable, mi), memberAcct(AccountMemberPending, mi), l.points)
		m.pending -= l.points
		m.avail += l.points
		if l.points > 0 && l.expiresAtMS != neverMS && e.emit {
			e.due.push(dueItem{dueMS: l.expiresAtMS, member: mi})
		}
		l.matureAtMS = maturedMark
		e.setLot(m, i, l)
	}
	for int(m.pendFrom) < len(m.lots) && !m.lots[m.pendFrom].pending() {
		m.pendFrom++
	}
}

func (e *Engine) releaseDue(m *member, mi int32, t int64) {
	if m.ext == nil || len(m.ext.holds) == 0 {
		return
	}
	hs := m.ext.holds
	for k := 0; k < len(hs); k++ {
		h := e.holds.at(int32(hs[k]))
		if h.deadlineMS > t {
			continue
		}
		e.giveBack(m, e.parts[h.partsOff:h.partsOff+h.partsLen])
		m.held -= h.points
		e.record(KindRelease, h.deadlineMS, memberAcct(AccountMemberAvailable, mi), memberAcct(AccountMemberHeld, mi), h.points)
		if e.emit {
			if e.undoing {
				e.undoHolds = append(e.undoHolds, hs[k])
			}
			h.open = false
			hs = append(hs[:k], hs[k+1:]...)
			k--
		}
	}
	if e.emit {
		m.ext.holds = hs
	}
}

// giveBack returns parts to the lots they came from (which had matured).
func (e *Engine) giveBack(m *member, ps []part) {
	for _, p := range ps {
		l := m.lots[p.lot]
		l.points += p.points
		e.setLot(m, int(p.lot), l)
		m.avail += p.points
		if int32(p.lot) < m.liveFrom {
			m.liveFrom = int32(p.lot)
		}
	}
}

// nextAvailable returns the index of the next available lot holding points
// after position k of the consumption order (earliest expires_at first,
// ties oldest first), or -1. Lots are in that order by index unless a
// transfer brought in an earlier expiry (m.unsorted); then e.order holds it.
func (e *Engine) nextAvailable(m *member, k *int) int {
	if m.unsorted {
		for *k < len(e.order) {
			i := int(e.order[*k])
			*k++
			if m.lots[i].points > 0 {
				return i
			}
		}
		return -1
	}
	for *k < len(m.lots) {
		i := *k
		*k++
		if l := &m.lots[i]; !l.pending() && l.points > 0 {
			return i
		}
	}
	return -1
}

// startAvailable begins a walk in consumption order; see nextAvailable.
func (e *Engine) startAvailable(m *member) int {
	if !m.unsorted {
		return int(m.liveFrom)
	}
	o := e.order[:0]
	for i := int(m.liveFrom); i < len(m.lots); i++ {
		l := &m.lots[i]
		if !l.pending() && l.points > 0 {
			o = append(o, int32(i))
		}
	}
	for i := 1; i < len(o); i++ {
		x := o[i]
		xe := m.lots[x].expiresAtMS
		j := i - 1
		for j >= 0 && m.lots[o[j]].expiresAtMS > xe {
			o[j+1] = o[j]
			j--
		}
		o[j+1] = x
	}
	e.order = o
	return 0
}

// take removes up to want points from available lots in consumption order,
// appending the parts to e.parts when keep is set; it returns what it took.
func (e *Engine) take(m *member, want int64, keep bool) int64 {
	var got int64
	for k := e.startAvailable(m); got < want; {
		i := e.nextAvailable(m, &k)
		if i < 0 {
			break
		}
		l := m.lots[i]
		n := min(l.points, want-got)
		l.points -= n
		e.setLot(m, i, l)
		m.avail -= n
		got += n
		if keep {
			e.parts = append(e.parts, part{lot: uint32(i), points: n})
		}
	}
	e.compact(m)
	return got
}

func (e *Engine) repayDebt(m *member) {
	if m.debt == 0 || m.avail == 0 {
		return
	}
	m.debt -= e.take(m, m.debt, false)
}

// compact advances liveFrom past lots that are empty and matured.
func (e *Engine) compact(m *member) {
	for int(m.liveFrom) < len(m.lots) {
		l := &m.lots[m.liveFrom]
		if l.points != 0 || l.pending() {
			return
		}
		m.liveFrom++
	}
}

func (e *Engine) expire(m *member, mi int32, t int64) {
	if m.avail == 0 {
		return
	}
	switch e.prog.ExpiryMode {
	case ExpiryLot, ExpiryAnnual:
		for i := int(m.liveFrom); i < len(m.lots); i++ {
			l := m.lots[i]
			if l.expiresAtMS > t {
				if !m.unsorted {
					break // every later lot expires later still
				}
				continue
			}
			if l.pending() || l.points == 0 {
				continue
			}
			e.record(KindExpire, l.expiresAtMS, breakageAcct, memberAcct(AccountMemberAvailable, mi), l.points)
			m.expired += l.points
			m.avail -= l.points
			if e.emit {
				e.breakage += l.points
			}
			l.points = 0
			e.setLot(m, i, l)
		}
	case ExpiryInactivity:
		dueMS := m.lastActivityMS + e.prog.ExpiryDays*msPerDay
		if dueMS > t {
			return
		}
		for i := int(m.liveFrom); i < len(m.lots); i++ {
			if l := m.lots[i]; !l.pending() && l.points != 0 {
				l.points = 0
				e.setLot(m, i, l)
			}
		}
		e.record(KindExpire, dueMS, breakageAcct, memberAcct(AccountMemberAvailable, mi), m.avail)
		m.expired += m.avail
		if e.emit {
			e.breakage += m.avail
		}
		m.avail = 0
	}
	e.compact(m)
}

func (e *Engine) rollYear(m *member, t int64) {
	y := int32(yearOf(t))
	if y <= m.year {
		return
	}
	if y == m.year+1 {
		m.carried = uint8(e.prog.levelFor(m.metric))
	} else {
		m.carried = 0
	}
	m.metric = 0
	m.year = y
}

func (m *member) earnedThisMonth(t int64) int64 {
	if int64(m.month) != monthKey(t) {
		return 0
	}
	return m.monthEarned
}

// consume takes points from available lots, earliest expiry first, and
// returns what it could not take.
func (e *Engine) consume(m *member, points int64, keep bool) int64 {
	return points - e.take(m, points, keep)
}

// addLot creates a lot and queues its maturation or expiry.
func (e *Engine) addLot(m *member, mi int32, points, matureAtMS, expiresAtMS, t int64) int32 {
	idx := int32(len(m.lots))
	if n := len(m.lots); n > 0 && expiresAtMS < m.lots[n-1].expiresAtMS {
		m.unsorted = true
	}
	l := lot{points: points, matureAtMS: matureAtMS, expiresAtMS: expiresAtMS}
	if matureAtMS <= t {
		l.matureAtMS = maturedMark
		m.avail += points
		if expiresAtMS != neverMS {
			e.due.push(dueItem{dueMS: expiresAtMS, member: mi})
		}
	} else {
		m.pending += points
		e.due.push(dueItem{dueMS: matureAtMS, member: mi})
	}
	m.lots = append(m.lots, l)
	return idx
}

func (e *Engine) activity(m *member, mi int32, t int64) {
	m.lastActivityMS = t
	if e.prog.ExpiryMode == ExpiryInactivity {
		e.due.push(dueItem{dueMS: t + e.prog.ExpiryDays*msPerDay, member: mi})
	}
}

// ---- catch-up that may be rolled back ----

type lotUndo struct {
	idx int32
	old lot
}

// tryBring brings mi to t for a command that may still be rejected. A
// rejected command must change nothing, and when t is ahead of the clock a
// later command may run at an earlier time than t; so the catch-up is
// logged and rollback undoes it. (At t equal to the clock the catch-up is
// what any later command would do first, and is kept.)
func (e *Engine) tryBring(mi int32, t int64) {
	if t == e.clockMS || !e.emit {
		e.bring(mi, t)
		return
	}
	m := e.members.at(mi)
	e.undoing = true
	e.undoMember = *m
	e.undoLots = e.undoLots[:0]
	e.undoHolds = e.undoHolds[:0]
	e.undoHoldList = e.undoHoldList[:0]
	if m.ext != nil {
		e.undoHoldList = append(e.undoHoldList, m.ext.holds...)
	}
	e.undoOut = len(e.out)
	e.undoBreakage = e.breakage
	e.bring(mi, t)
}

// keep ends a tryBring whose command goes on.
func (e *Engine) keep() { e.undoing = false }

// rollback undoes the catch-up of the last tryBring.
func (e *Engine) rollback(mi int32) {
	if !e.undoing {
		return
	}
	m := e.members.at(mi)
	for k := len(e.undoLots) - 1; k >= 0; k-- {
		u := e.undoLots[k]
		m.lots[u.idx] = u.old
	}
	*m = e.undoMember
	if m.ext != nil {
		m.ext.holds = append(m.ext.holds[:0], e.undoHoldList...)
	}
	for _, h := range e.undoHolds {
		e.holds.at(int32(h)).open = true
	}
	e.out = e.out[:e.undoOut]
	e.breakage = e.undoBreakage
	e.undoing = false
}

// ---- views: a member brought to t without changing anything ----

// quiet reports whether bringing m to t would change nothing: no lot to
// mature or expire, no hold or inactivity deadline, no new year. Views of
// quiet members (the usual case, since a touched member was just brought
// to the clock) need no copy of their lots.
func (e *Engine) quiet(m *member, t int64) bool {
	if int64(m.year) != yearOf(t) {
		return false
	}
	if int(m.pendFrom) < len(m.lots) && m.lots[m.pendFrom].matureAtMS <= t {
		return false
	}
	if m.ext != nil {
		for _, h := range m.ext.holds {
			if e.holds.at(int32(h)).deadlineMS <= t {
				return false
			}
		}
	}
	if m.avail == 0 {
		return true
	}
	switch e.prog.ExpiryMode {
	case ExpiryInactivity:
		return m.lastActivityMS+e.prog.ExpiryDays*msPerDay > t
	case ExpiryLot, ExpiryAnnual:
		if m.unsorted {
			return false
		}
		for i := int(m.liveFrom); i < len(m.lots); i++ {
			l := &m.lots[i]
			if !l.pending() && l.points > 0 {
				return l.expiresAtMS > t // the earliest expiry of all
			}
		}
	}
	return true
}

// view returns member mi brought to t, without writing anything: the
// member itself when nothing is due (callers only read it), else a copy.
func (e *Engine) view(mi int32, t int64) *member {
	m := e.members.at(mi)
	if e.quiet(m, t) {
		return m
	}
	e.viewM = *m
	e.viewLots = append(e.viewLots[:0], m.lots...)
	e.viewM.lots = e.viewLots
	saved := e.emit
	e.emit = false
	v := &e.viewM
	e.mature(v, mi, t)
	e.releaseDue(v, mi, t)
	e.repayDebt(v)
	e.expire(v, mi, t)
	e.rollYear(v, t)
	e.emit = saved
	return v
}

// ---- purchase arithmetic ----

// mulDiv returns floor(a×b×c×d×f / (g×h)) for non-negative inputs, exactly.
func mulDivFloor(nums [5]int64, den1, den2 int64) int64 {
	hi, lo := uint64(0), uint64(1)
	for _, n := range nums {
		h1, l1 := bits.Mul64(lo, uint64(n))
		h2, _ := bits.Mul64(hi, uint64(n))
		if h2 != 0 || hi*uint64(n) > math.MaxUint64-h1 {
			return mulDivBig(nums, den1, den2)
		}
		hi, lo = hi*uint64(n)+h1, l1
	}
	if hi >= uint64(den1) {
		return mulDivBig(nums, den1, den2)
	}
	q, _ := bits.Div64(hi, lo, uint64(den1))
	return int64(min(q/uint64(den2), math.MaxInt64))
}

func mulDivBig(nums [5]int64, den1, den2 int64) int64 {
	x := big.NewInt(1)
	for _, n := range nums {
		x.Mul(x, big.NewInt(n))
	}
	x.Quo(x, new(big.Int).Mul(big.NewInt(den1), big.NewInt(den2)))
	if !x.IsInt64() {
		return math.MaxInt64
	}
	return x.Int64()
}

// earn computes SPEC §5 purchase steps 1–6 for member m (brought to t) and
// returns the total of the purchase's own lot, and the tier used.
func (e *Engine) earn(m *member, partner int32, amount int64, category []byte, t int64) (int64, uint8, bool) {
	p := e.prog
	tier := e.tierOf(m)
	rate := p.rateFor(partner, category)
	cBP, bonus := int64(10000), int64(0)
	matched := false
	for ci := range p.Campaigns {
		c := &p.Campaigns[ci]
		if t < c.FromMS || t >= c.ToMS || amount < c.MinAmount {
			continue
		}
		if len(c.partnerIdx) > 0 && !containsI32(c.partnerIdx, partner) {
			continue
		}
		if len(c.tierIdx) > 0 && !containsI32(c.tierIdx, int32(tier)) {
			continue
		}
		if len(c.Categories) > 0 && (len(category) == 0 || !containsStr(c.Categories, category)) {
			continue
		}
		if !matched || c.MultiplierBP > cBP {
			cBP = c.MultiplierBP
		}
		matched = true
		bonus = min(bonus+c.BonusPoints, bound+1)
	}
	planBP := int64(10000)
	if m.ext != nil && m.ext.plan >= 0 && t < m.ext.planUntilMS {
		planBP = p.Plans[m.ext.plan].MultiplierBP
	}
	points := mulDivFloor([5]int64{amount, rate.Points, p.Levels[tier].MultiplierBP, cBP, planBP}, rate.Per, 1_000_000_000_000)
	// Saturating sums: each term is at most bound+1, so nothing wraps.
	total := min(points, bound+1)
	total = min(total+min(bonus, bound+1), bound+1)
	if !m.firstDone {
		total = min(total+p.WelcomeBonus, bound+1)
	}
	if p.CapPerPurchase > 0 {
		total = min(total, p.CapPerPurchase)
	}
	if p.CapPerMemberMonth > 0 {
		total = min(total, max(0, p.CapPerMemberMonth-m.earnedThisMonth(t)))
	}
	ok := total <= bound
	return total, tier, ok
}

func containsI32(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func containsStr(s []string, v []byte) bool {
	for _, x := range s {
		if x == string(v) {
			return true
		}
	}
	return false
}

// ---- commands ----

func (e *Engine) purchase(c *Command, t int64, ri int32) (int32, int64, ErrorCode) {
	pi := e.prog.partner(c.Partner)
	if pi < 0 {
		return -1, 0, ErrUnknownPartner
	}
	mi := e.lookup(c.Member)
	isNew := mi < 0
	if isNew {
		mi = e.create(c.Member, t)
	} else {
		e.bring(mi, t)
	}
	m := e.members.at(mi)
	before := m.available() + m.pending
	total, _, ok := e.earn(m, pi, c.Amount, c.Category, t)
	metricAdd := c.Amount
	if e.prog.Metric == "purchases" {
		metricAdd = 1
	}
	var refBonus, refererBonus int64
	referrer := int32(-1)
	if !m.firstDone && m.ext != nil && m.ext.referrer >= 0 {
		referrer = m.ext.referrer
		refBonus, refererBonus = e.prog.ReferredPoints, e.prog.ReferrerPoints
	}
	ok = ok && addFits(m.avail+m.pending+m.held, total+refBonus+e.maxChallengeBonus()) &&
		addFits(m.earned, total+refBonus+e.maxChallengeBonus()) && addFits(m.metric, metricAdd) &&
		addFits(m.monthEarned, total) && addFits(-e.partnerIssued[pi], total)
	if referrer >= 0 {
		r := e.members.at(referrer)
		ok = ok && addFits(r.avail+r.pending+r.held, refererBonus) && addFits(r.earned, refererBonus)
	}
	if !ok {
		if isNew {
			e.dropLast()
		}
		return -1, 0, ErrOverflow
	}
	matureAt := t + e.prog.PendingDays*msPerDay
	expiresAt := e.prog.expiresAt(t)
	rec := purchaseRec{amount: c.Amount, points: total, member: mi, partner: pi, lot: -1}
	if total > 0 {
		rec.lot = e.addLot(m, mi, total, matureAt, expiresAt, t)
		e.record(KindEarn, t, e.lotAcct(mi, matureAt, t), partnerAcct(AccountPartnerIssued, pi), total)
		if int64(m.month) != monthKey(t) {
			m.month, m.monthEarned = int32(monthKey(t)), 0
		}
		m.monthEarned += total
		m.earned += total
		e.partnerIssued[pi] -= total
	}
	if referrer >= 0 {
		m.ext.referrer = -1
		e.reward(m, mi, refBonus, matureAt, expiresAt, t)
		e.bring(referrer, t)
		r := e.members.at(referrer)
		e.reward(r, referrer, refererBonus, matureAt, expiresAt, t)
		e.repayDebt(r)
		m = e.members.at(mi)
	}
	e.challenges(m, mi, pi, c.Amount, expiresAt, t)
	m.firstDone = true
	m.metric += metricAdd
	e.activity(m, mi, t)
	e.repayDebt(m)
	e.recs.at(ri).ref = e.buys.add(rec)
	return mi, before, OK
}

func (e *Engine) maxChallengeBonus() int64 {
	var s int64
	for i := range e.prog.Challenges {
		s += e.prog.Challenges[i].BonusPoints
		if s > bound {
			return bound
		}
	}
	return s
}

func (e *Engine) lotAcct(mi int32, matureAt, t int64) Account {
	if matureAt <= t {
		return memberAcct(AccountMemberAvailable, mi)
	}
	return memberAcct(AccountMemberPending, mi)
}

// reward adds a bonus lot funded by the operator's rewards account.
func (e *Engine) reward(m *member, mi int32, points, matureAt, expiresAt, t int64) {
	if points <= 0 {
		return
	}
	e.addLot(m, mi, points, matureAt, expiresAt, t)
	e.record(KindReward, t, e.lotAcct(mi, matureAt, t), rewardsAcct, points)
	m.earned += points
	e.rewards -= points
}

func (e *Engine) challenges(m *member, mi, pi int32, amount, expiresAt, t int64) {
	chs := e.prog.Challenges
	for k := range chs {
		ch := &chs[k]
		if t < ch.FromMS || t >= ch.ToMS || amount < ch.MinAmount {
			continue
		}
		x := e.ext(m)
		if len(x.challenges) < len(chs) {
			x.challenges = append(x.challenges, make([]challengeProgress, len(chs)-len(x.challenges))...)
		}
		pr := &x.challenges[k]
		pr.purchases++
		if int64(len(pr.partners)) < ch.DistinctPartners && !containsI32(pr.partners, pi) {
			pr.partners = append(pr.partners, pi)
		}
		if !pr.done && pr.purchases >= ch.Purchases && int64(len(pr.partners)) >= ch.DistinctPartners {
			pr.done = true
			e.reward(m, mi, ch.BonusPoints, t, expiresAt, t)
		}
	}
}

func (e *Engine) dropLast() {
	last := int32(e.members.len() - 1)
	if n := len(e.touched); n > 0 && e.touched[n-1] == last {
		e.touched = e.touched[:n-1]
	}
	e.byName.remove(memberKeys{e}, []byte(e.members.at(last).name), last)
	e.members.pop()
}

func (e *Engine) refund(c *Command, t int64) (int32, int64, ErrorCode) {
	pi := e.prog.partner(c.Partner)
	if pi < 0 {
		return -1, 0, ErrUnknownPartner
	}
	oi, ok := e.ids.find(idKeys{e}, c.Original)
	if !ok || e.recs.at(oi).typ != TypePurchase || e.recs.at(oi).err != OK {
		return -1, 0, ErrUnknownOriginal
	}
	pr := e.buys.at(e.recs.at(oi).ref)
	if e.members.at(pr.member).name != string(c.Member) || pr.partner != pi {
		return -1, 0, ErrOriginalMismatch
	}
	if pr.refunded+c.Amount > pr.amount {
		return -1, 0, ErrRefundExceedsPurchase
	}
	mi := pr.member
	r0, r1 := pr.refunded, pr.refunded+c.Amount
	claw := mulDivFloor([5]int64{pr.points, r1, 1, 1, 1}, pr.amount, 1) - mulDivFloor([5]int64{pr.points, r0, 1, 1, 1}, pr.amount, 1)
	m := e.members.at(mi)
	if !addFits(m.debt, claw) || !addFits(m.earned, -claw) {
		return -1, 0, ErrOverflow
	}
	e.bring(mi, t)
	before := m.available() + m.pending
	rest := claw
	if pr.lot >= 0 {
		l := &m.lots[pr.lot]
		take := min(l.points, rest)
		l.points -= take
		rest -= take
		if l.pending() {
			m.pending -= take
			e.record(KindClawback, t, partnerAcct(AccountPartnerIssued, pi), memberAcct(AccountMemberPending, mi), take)
		} else {
			m.avail -= take
			e.record(KindClawback, t, partnerAcct(AccountPartnerIssued, pi), memberAcct(AccountMemberAvailable, mi), take)
		}
	}
	if rest > 0 {
		missing := e.consume(m, rest, false)
		m.debt += missing
		e.record(KindClawback, t, partnerAcct(AccountPartnerIssued, pi), memberAcct(AccountMemberAvailable, mi), rest)
	}
	e.compact(m)
	m.earned -= claw
	e.partnerIssued[pi] += claw
	if e.prog.Metric == "spend" {
		m.metric = max(0, m.metric-c.Amount)
	}
	pr.refunded = r1
	return mi, before, OK
}

// spendable runs the checks a redemption and a hold share (SPEC §5
// redeem, §9.7): the partner, the minimum, and the member's available
// points at t, then the overflow of the counter the command raises. On
// success the member has been brought to t.
func (e *Engine) spendable(c *Command, t int64, counter func(m *member, pi int32) int64) (int32, int32, ErrorCode) {
	pi := e.prog.partner(c.Partner)
	if pi < 0 {
		return -1, -1, ErrUnknownPartner
	}
	if c.Points < e.prog.MinRedemption {
		return -1, -1, ErrBelowMinRedemption
	}
	mi := e.lookup(c.Member)
	if mi < 0 {
		return -1, -1, ErrInsufficientPoints
	}
	e.tryBring(mi, t)
	m := e.members.at(mi)
	if m.available() < c.Points {
		e.rollback(mi)
		return -1, -1, ErrInsufficientPoints
	}
	if !addFits(counter(m, pi), c.Points) {
		e.rollback(mi)
		return -1, -1, ErrOverflow
	}
	e.keep()
	return mi, pi, OK
}

func (e *Engine) redeem(c *Command, t int64, ri int32) (int32, int64, ErrorCode) {
	mi, pi, code := e.spendable(c, t, func(m *member, pi int32) int64 {
		return max(m.redeemed, e.partnerRedeemed[pi])
	})
	if code != OK {
		return -1, 0, code
	}
	m := e.members.at(mi)
	before := m.available() + m.pending
	off := uint32(len(e.parts))
	left := e.consume(m, c.Points, true)
	assert(left == 0, "redeem consumed less than available")
	m.redeemed += c.Points
	e.partnerRedeemed[pi] += c.Points
	e.record(KindRedeem, t, partnerAcct(AccountPartnerRedeemed, pi), memberAcct(AccountMemberAvailable, mi), c.Points)
	e.activity(m, mi, t)
	e.recs.at(ri).ref = e.redeems.add(redemptionRec{points: c.Points, partsOff: off, partsLen: uint32(len(e.parts)) - off, member: mi, partner: pi})
	return mi, before, OK
}

func (e *Engine) cancel(c *Command, t int64) (int32, int64, ErrorCode) {
	oi, ok := e.ids.find(idKeys{e}, c.Original)
	if !ok || (e.recs.at(oi).typ != TypeRedeem && e.recs.at(oi).typ != TypeCapture) || e.recs.at(oi).err != OK {
		return -1, 0, ErrUnknownOriginal
	}
	rd := e.redeems.at(e.recs.at(oi).ref)
	if rd.cancelled {
		return -1, 0, ErrAlreadyCancelled
	}
	mi := rd.member
	e.bring(mi, t)
	m := e.members.at(mi)
	before := m.available() + m.pending
	e.giveBack(m, e.parts[rd.partsOff:rd.partsOff+rd.partsLen])
	m.redeemed -= rd.points
	e.partnerRedeemed[rd.partner] -= rd.points
	e.record(KindCancel, t, memberAcct(AccountMemberAvailable, mi), partnerAcct(AccountPartnerRedeemed, rd.partner), rd.points)
	rd.cancelled = true
	e.repayDebt(m)
	e.expire(m, mi, t)
	return mi, before, OK
}

func (e *Engine) adjust(c *Command, t int64) (int32, int64, ErrorCode) {
	mi := e.lookup(c.Member)
	isNew := mi < 0
	if !isNew {
		m := e.members.at(mi)
		if !addFits(m.earned, c.Points) || !addFits(m.avail+m.pending+m.held, c.Points) || !addFits(m.debt, -c.Points) ||
			!addFits(e.adjustments, -c.Points) {
			return -1, 0, ErrOverflow
		}
		e.bring(mi, t)
	} else {
		mi = e.create(c.Member, t)
	}
	m := e.members.at(mi)
	before := m.available() + m.pending
	if c.Points > 0 {
		e.addLot(m, mi, c.Points, t, e.prog.expiresAt(t), t)
		e.record(KindAdjust, t, memberAcct(AccountMemberAvailable, mi), adjustmentsAcct, c.Points)
		e.repayDebt(m)
	} else {
		missing := e.consume(m, -c.Points, false)
		m.debt += missing
		e.record(KindAdjust, t, adjustmentsAcct, memberAcct(AccountMemberAvailable, mi), -c.Points)
	}
	m.earned += c.Points
	e.adjustments -= c.Points
	return mi, before, OK
}

func (e *Engine) membership(c *Command, t int64) (int32, int64, ErrorCode) {
	plan := e.prog.plan(c.Plan)
	if plan < 0 {
		return -1, 0, ErrUnknownPlan
	}
	mi := e.lookupOrCreate(c.Member, t)
	e.bring(mi, t)
	m := e.members.at(mi)
	x := e.ext(m)
	days := e.prog.Plans[plan].Days * msPerDay
	if x.plan == int32(plan) && t < x.planUntilMS {
		x.planUntilMS += days
	} else {
		x.plan, x.planUntilMS = int32(plan), t+days
	}
	return mi, m.available() + m.pending, OK
}

func (e *Engine) referral(c *Command, t int64) (int32, int64, ErrorCode) {
	if !e.prog.HasReferral {
		return -1, 0, ErrReferralsDisabled
	}
	mi := e.lookup(c.Member)
	if mi < 0 || e.lookup(c.Referred) >= 0 {
		return -1, 0, ErrReferralInvalid
	}
	ni := e.create(c.Referred, t)
	e.ext(e.members.at(ni)).referrer = mi
	e.bring(mi, t)
	m := e.members.at(mi)
	return mi, m.available() + m.pending, OK
}

func (e *Engine) action(c *Command, t int64) (int32, int64, ErrorCode) {
	ai := e.prog.action(c.Action)
	if ai < 0 {
		return -1, 0, ErrUnknownAction
	}
	a := &e.prog.Actions[ai]
	mk := int32(monthKey(t))
	mi := e.lookup(c.Member)
	if mi >= 0 && a.PerMemberMonth > 0 {
		if x := e.members.at(mi).ext; x != nil && len(x.actions) > ai && x.actions[ai].month == mk &&
			int64(x.actions[ai].count) >= a.PerMemberMonth {
			return -1, 0, ErrActionLimit
		}
	}
	if mi >= 0 {
		m := e.members.at(mi)
		if !addFits(m.earned, a.Points) || !addFits(m.avail+m.pending+m.held, a.Points) {
			return -1, 0, ErrOverflow
		}
		e.bring(mi, t)
	} else {
		mi = e.create(c.Member, t)
	}
	m := e.members.at(mi)
	before := m.available() + m.pending
	x := e.ext(m)
	if len(x.actions) < len(e.prog.Actions) {
		x.actions = append(x.actions, make([]actionCount, len(e.prog.Actions)-len(x.actions))...)
	}
	if x.actions[ai].month != mk {
		x.actions[ai] = actionCount{month: mk}
	}
	x.actions[ai].count++
	if a.Points > 0 {
		e.addLot(m, mi, a.Points, t, e.prog.expiresAt(t), t)
		if a.partnerIdx >= 0 {
			e.record(KindReward, t, memberAcct(AccountMemberAvailable, mi), partnerAcct(AccountPartnerIssued, a.partnerIdx), a.Points)
			e.partnerIssued[a.partnerIdx] -= a.Points
		} else {
			e.record(KindReward, t, memberAcct(AccountMemberAvailable, mi), rewardsAcct, a.Points)
			e.rewards -= a.Points
		}
		m.earned += a.Points
	}
	e.activity(m, mi, t)
	e.repayDebt(m)
	return mi, before, OK
}

func (e *Engine) transfer(c *Command, t int64) (int32, int64, ErrorCode) {
	if !e.prog.HasTransfers {
		return -1, 0, ErrTransfersDisabled
	}
	if c.Points < e.prog.MinTransfer {
		return -1, 0, ErrBelowMinTransfer
	}
	si := e.lookup(c.Member)
	if si < 0 {
		return -1, 0, ErrInsufficientPoints
	}
	e.tryBring(si, t)
	if e.members.at(si).available() < c.Points {
		e.rollback(si)
		return -1, 0, ErrInsufficientPoints
	}
	ri := e.lookup(c.To)
	if ri >= 0 {
		r := e.members.at(ri)
		if !addFits(r.earned, c.Points) || !addFits(r.avail+r.pending+r.held, c.Points) {
			e.rollback(si)
			return -1, 0, ErrOverflow
		}
	}
	e.keep()
	s := e.members.at(si)
	before := s.available() + s.pending
	off := len(e.parts)
	left := e.consume(s, c.Points, true)
	assert(left == 0, "transfer consumed less than available")
	s.earned -= c.Points
	e.activity(s, si, t)
	if ri < 0 {
		ri = e.create(c.To, t)
	} else {
		e.bring(ri, t)
	}
	s = e.members.at(si)
	r := e.members.at(ri)
	for _, p := range e.parts[off:] {
		e.addLot(r, ri, p.points, t, s.lots[p.lot].expiresAtMS, t)
	}
	e.parts = e.parts[:off]
	r.earned += c.Points
	e.record(KindTransfer, t, memberAcct(AccountMemberAvailable, ri), memberAcct(AccountMemberAvailable, si), c.Points)
	e.repayDebt(r)
	return si, before, OK
}

func (e *Engine) hold(c *Command, t int64, ri int32) (int32, int64, ErrorCode) {
	mi, pi, code := e.spendable(c, t, func(m *member, _ int32) int64 { return m.held })
	if code != OK {
		return -1, 0, code
	}
	m := e.members.at(mi)
	before := m.available() + m.pending
	timeoutS := e.prog.HoldTimeoutS
	if c.Fields&fTimeout != 0 {
		timeoutS = c.TimeoutS
	}
	off := uint32(len(e.parts))
	left := e.consume(m, c.Points, true)
	assert(left == 0, "hold consumed less than available")
	m.held += c.Points
	deadline := t + timeoutS*msPerSecond
	hi := uint32(e.holds.add(holdRec{points: c.Points, deadlineMS: deadline, partsOff: off,
		partsLen: uint32(len(e.parts)) - off, member: mi, partner: pi, open: true}))
	x := e.ext(m)
	x.holds = append(x.holds, hi)
	e.due.push(dueItem{dueMS: deadline, member: mi})
	e.record(KindHold, t, memberAcct(AccountMemberHeld, mi), memberAcct(AccountMemberAvailable, mi), c.Points)
	e.activity(m, mi, t)
	e.recs.at(ri).ref = int32(hi)
	return mi, before, OK
}

// closeHold is capture and release (SPEC §9.7).
func (e *Engine) closeHold(c *Command, t int64, ri int32) (int32, int64, ErrorCode) {
	oi, ok := e.ids.find(idKeys{e}, c.Original)
	if !ok || e.recs.at(oi).typ != TypeHold || e.recs.at(oi).err != OK {
		return -1, 0, ErrUnknownOriginal
	}
	hi := e.recs.at(oi).ref
	h := e.holds.at(hi)
	if !h.open || h.deadlineMS <= t {
		return -1, 0, ErrHoldClosed
	}
	capture := int64(0)
	if c.Type == TypeCapture {
		capture = h.points
		if c.Fields&fPoints != 0 {
			if c.Points > h.points {
				return -1, 0, ErrCaptureExceedsHold
			}
			capture = c.Points
		}
	}
	mi := h.member
	e.bring(mi, t)
	m := e.members.at(mi)
	before := m.available() + m.pending
	x := m.ext
	for k, v := range x.holds {
		if v == uint32(hi) {
			x.holds = append(x.holds[:k], x.holds[k+1:]...)
			break
		}
	}
	h.open = false
	m.held -= h.points
	ps := e.parts[h.partsOff : h.partsOff+h.partsLen]
	if capture > 0 {
		// The captured points are the first of the hold, in the order taken.
		off := uint32(len(e.parts))
		need := capture
		for _, p := range ps {
			if need == 0 {
				break
			}
			take := min(p.points, need)
			e.parts = append(e.parts, part{lot: p.lot, points: take})
			need -= take
		}
		ps = e.parts[h.partsOff : h.partsOff+h.partsLen] // append may have moved parts
		e.recs.at(ri).ref = e.redeems.add(redemptionRec{points: capture, partsOff: off, partsLen: uint32(len(e.parts)) - off, member: mi, partner: h.partner})
		m.redeemed += capture
		e.partnerRedeemed[h.partner] += capture
		e.record(KindCapture, t, partnerAcct(AccountPartnerRedeemed, h.partner), memberAcct(AccountMemberHeld, mi), capture)
	}
	skip := capture
	var back int64
	for _, p := range ps {
		take := min(p.points, skip)
		skip -= take
		if rest := p.points - take; rest > 0 {
			l := &m.lots[p.lot]
			l.points += rest
			m.avail += rest
			back += rest
			if int32(p.lot) < m.liveFrom {
				m.liveFrom = int32(p.lot)
			}
		}
	}
	e.record(KindRelease, t, memberAcct(AccountMemberAvailable, mi), memberAcct(AccountMemberHeld, mi), back)
	e.repayDebt(m)
	e.expire(m, mi, t)
	return mi, before, OK
}

// tick brings every member with something due by t to t (SPEC §4).
func (e *Engine) tick(t int64) {
	for len(e.due) > 0 && e.due[0].dueMS <= t {
		it := e.due.pop()
		e.bring(it.member, t)
	}
}

// quote answers SPEC §9.1 without changing anything.
func (e *Engine) quote(c *Command, t int64) Result {
	if e.next != nil && t >= e.nextAtMS {
		// Quote under the program in force at t, changing nothing.
		prev := e.prog
		e.prog = e.next
		defer func() { e.prog = prev }()
	}
	res := Result{ID: c.ID, HasID: c.HasID(), Shape: shapeQuote}
	pi := e.prog.partner(c.Partner)
	if pi < 0 {
		res.Err = ErrUnknownPartner
		return res
	}
	var m *member
	if mi := e.lookup(c.Member); mi >= 0 {
		// A purchase's points depend on the tier, the month's earnings, the
		// first purchase and the plan, never on lots: copy the member
		// without them and roll its year to t.
		e.viewM = *e.members.at(mi)
		e.viewM.lots = nil
		m = &e.viewM
		e.rollYear(m, t)
	} else {
		e.viewM = member{year: int32(yearOf(t)), month: int32(monthKey(t))}
		m = &e.viewM
	}
	total, tier, _ := e.earn(m, pi, c.Amount, c.Category, t)
	res.Points = min(total, bound)
	res.Tier = tier
	res.Discount = mulDivFloor([5]int64{c.Amount, e.prog.Levels[tier].DiscountBP, 1, 1, 1}, 10000, 1)
	return res
}
