package engine

import "math"

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
	ids      hashIndex // command id → index into recs (the resident records)
	recs     pool[record]
	buys     pool[purchaseRec]
	redeems  pool[redemptionRec]
	refunds  pool[refundEvent]
	rdParts  chunked[[]part] // store-backed: redemption row i's lot parts
	holds    chunked[holdRec]
	parts    []part // holds' lot parts; a keep-all engine's redemptions' too
	res      residency
	due      dueQueue
	names    arena     // challenge categories, campaign and hold ids
	mnames   nameStore // member ids
	// partner and operator account balances, for the overflow check
	partnerIssued   []int64
	partnerRedeemed []int64
	breakage        int64
	adjustments     int64
	rewards         int64
	// SPEC §10's program-wide state: campaign budgets spent, rewards claimed
	budgets budgetTable
	// keepLots: members never drop lots (lots.go). Set in an engine
	// restored from a snapshot older than version 6, whose store may hold
	// record values (format 1) whose parts lack their lot's expiry.
	keepLots bool
	claimed  []int64 // per reward index: claims not cancelled
	buy      buyScratch
	ahead    lookAhead // Apply's reads ahead (ahead.go)

	// per-Apply context
	touched    []int32
	touchedSet []uint64 // a bit per member: in touched (members.go)
	out        []Entry
	cmdID      string
	emit       bool

	// catch-up log of tryBring
	undoing      bool
	undoMember   member
	undoLots     []lotUndo
	undoHolds    []uint32
	undoHoldList []uint32
	undoOut      int
	undoBreakage int64
	undoExt      memberExt // the member's ext, if it has one

	// scratch for views and lot ordering
	viewM    member
	viewExt  memberExt
	viewLots []lot
	order    []int32
}

// New returns a keep-all engine (see Options) for a program with no members.
func New(p *Program) *Engine { return NewWithOptions(p, Options{}) }

// NewWithOptions returns an engine for a program with no members.
func NewWithOptions(p *Program, o Options) *Engine {
	return &Engine{
		res:             residency{storeBacked: o.StoreBacked, tracking: o.StoreBacked},
		prog:            p,
		clockMS:         math.MinInt64,
		byName:          newHashIndex(),
		ids:             newHashIndex(),
		partnerIssued:   make([]int64, len(p.Partners)),
		partnerRedeemed: make([]int64, len(p.Partners)),
		claimed:         make([]int64, len(p.Rewards)),
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
// command to results and the ledger entries they produce to entries. A
// store-backed engine takes any id that is not resident for a new one: its
// caller loads the batch's records first (AppendMissing, LoadRecord) and
// persists them after (AppendDirty), as doc.go describes.
func (e *Engine) Apply(cmds []Command, results []Result, entries []Entry) ([]Result, []Entry) {
	e.out = entries
	e.untouchAll()
	if e.ahead.off {
		for i := range cmds {
			results = append(results, e.apply(&cmds[i]))
		}
	} else {
		for i := -aheadSlots; i < 0; i++ {
			e.warm(cmds, i)
		}
		for i := range cmds {
			e.warm(cmds, i)
			results = append(results, e.apply(&cmds[i]))
		}
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
	ri := e.newRecord(c)
	e.cmdID = e.recs.at(ri).id
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
	res.Available, res.Pending, res.Held = m.available(), m.get(bPending), m.held()
	res.Points = m.available() + m.get(bPending) - before
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
	case TypeClaim:
		return e.claim(c, t, ri)
	}
	return -1, 0, ErrInvalid
}

func fits(v int64) bool { return v >= -bound && v <= bound }

// addFits reports whether a+b stays within ±2^62 (both already within it).
func addFits(a, b int64) bool { return fits(a + b) }

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
