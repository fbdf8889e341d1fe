package engine

import (
	"math"
	"unsafe"
)

// maturedMark in lot.matureAtMS means the lot has matured (its maturation
// entry is written); the original date is no longer needed.
const maturedMark = math.MinInt64

// lot is one earning: 24 bytes.
type lot struct {
	points      int64 // remaining
	matureAtMS  int64 // maturedMark once available
	expiresAtMS int64 // neverMS: no date expiry
}

func (l *lot) pending() bool { return l.matureAtMS != maturedMark }

// part is a slice of a lot taken by a redemption or a hold. It keeps its
// lot's expiry, so that giving it back can revive a lot the member has
// dropped (lots.go).
type part struct {
	lot         uint32 // absolute lot index (see member.lotBase)
	points      int64
	expiresAtMS int64
}

// member is the state of one member (SPEC §3). Fixed part: 80 bytes on
// amd64 (pinned by TestMemoryFootprint) plus its id in the name store
// (names.go), its lots, and its ext for the few members that need one.
// Every field is as small as what it holds allows: a slice as a pointer
// and two uint32s, balances as int32s (bal), the year and the flags in
// one uint16.
//
// Lot indices stored elsewhere (a purchase's lot, a part's) are absolute:
// lots()[i] is lot lotBase+i. The member drops empty matured lots from the
// front (lots.go), so lots follow the member's live points, not its history.
type member struct {
	lotPtr         *lot       // lots(): lotPtr[:lotLen:lotCap]
	ext            *memberExt // nil unless a §9 feature, debt, a hold or a wide value touched the member
	lastActivityMS int64
	n              [nBal]int32 // balances and counters (bal); wideMark: in ext
	lotLen         uint32
	lotCap         uint32
	lotBase        int32  // absolute index of lots()[0]: the lots dropped before it
	liveFrom       int32  // index into lots(): lots before it are empty and matured
	pendFrom       int32  // index into lots(): lots before it have matured
	month          int32  // monthKey of monthEarned
	nameOff        uint32 // the id's place in the name store: the low 32 bits
	yf             uint16 // bits 0–13: calendar year of metric (SPEC times end in 9999); 14, 15: flags
	carried        uint8
	nameHi         uint8 // the high 8 bits of the id's place
}

const (
	// memberFirstDone: the member has made its first purchase.
	memberFirstDone uint16 = 1 << (14 + iota)
	// memberUnsorted: a lot's expiry is earlier than an older lot's.
	memberUnsorted
	yearMask = 1<<14 - 1
)

func (m *member) firstDone() bool { return m.yf&memberFirstDone != 0 }
func (m *member) unsorted() bool  { return m.yf&memberUnsorted != 0 }

// year is the calendar year of metric, 0 … 9999.
func (m *member) year() int64 { return int64(m.yf & yearMask) }

func (m *member) setYear(y int64) { m.yf = m.yf&^yearMask | uint16(y) }

// lots returns the member's lots (a slice over its own array: appending
// to it may move them, then setLots records the new slice).
func (m *member) lots() []lot { return unsafe.Slice(m.lotPtr, m.lotCap)[:m.lotLen] }

func (m *member) setLots(s []lot) {
	m.lotPtr, m.lotLen, m.lotCap = unsafe.SliceData(s), uint32(len(s)), uint32(cap(s))
}

func (m *member) nameRef() nameRef { return nameRef{off: m.nameOff, hi: m.nameHi} }

func (m *member) setName(r nameRef) { m.nameOff, m.nameHi = r.off, r.hi }

// bal names a balance or counter of a member: 4 bytes in the member while
// it fits in an int32 (nearly always), else wideMark there and the exact
// value in its ext, so that every value stays exact at any size.
type bal uint8

const (
	bAvail       bal = iota // remaining points of available lots (debt not subtracted)
	bPending                // remaining points of pending lots
	bEarned                 // points earned (SPEC §3)
	bRedeemed               // points redeemed
	bMetric                 // this year's spend or purchase count
	bMonthEarned            // points earned in month (monthly cap)
	nBal
)

const wideMark = math.MinInt32

// narrowMax is the largest value (and -narrowMax the smallest) a member
// keeps in its int32: math.MaxInt32, but tests lower it so that most
// values go wide, and check that nothing observable changes.
var narrowMax int64 = math.MaxInt32

func (m *member) get(b bal) int64 {
	if v := m.n[b]; v != wideMark {
		return int64(v)
	}
	return m.ext.wide[b]
}

func (m *member) set(b bal, v int64) {
	if v >= -narrowMax && v <= narrowMax {
		m.n[b] = int32(v)
		return
	}
	m.spare().wide[b] = v
	m.n[b] = wideMark
}

// add is set(b, get(b)+d), wrapping like the int64 arithmetic it replaces.
func (m *member) add(b bal, d int64) { m.set(b, m.get(b)+d) }

// spare returns m's ext, making it if need be (for debt, held points or a
// wide value: members.go ext marks one made for §9 state).
func (m *member) spare() *memberExt {
	if m.ext == nil {
		m.ext = &memberExt{plan: -1, referrer: -1}
	}
	return m.ext
}

// debt and held live in memberExt: they are 0 for almost every member.
func (m *member) debt() int64 {
	if m.ext == nil {
		return 0
	}
	return m.ext.debt
}

func (m *member) held() int64 {
	if m.ext == nil {
		return 0
	}
	return m.ext.held
}

// available is the member's available balance (SPEC §3).
func (m *member) available() int64 { return m.get(bAvail) - m.debt() }

// expiredPoints is what went to breakage (SPEC §8): by the balance
// identity available + pending + held = earned − redeemed − expired, which
// every command keeps, so it needs no field of its own. (Go's wrapping
// arithmetic keeps the result exact even if a partial sum overflows.)
func (m *member) expiredPoints() int64 {
	return m.get(bEarned) - m.get(bRedeemed) - (m.available() + m.get(bPending) + m.held())
}

// memberExt holds what few members need: wide values (bal), debt, held
// points and §9 state (168 bytes plus its slices and retail part). sec9
// says whether a §9 feature made it (members.go ext), which the snapshot
// records; an ext made only for the rest (member.spare) is not written as
// one, so the snapshot stream is what it was.
type memberExt struct {
	wide        [nBal]int64 // the values of bals marked wide in the member
	debt        int64
	held        int64
	planUntilMS int64
	plan        int32 // -1: none
	referrer    int32 // -1: none; a referral bonus is due on the first purchase
	holds       []uint32
	challenges  []challengeProgress
	actions     []actionCount
	retail      *memberRetail // nil unless the program has offers or daily limits
	sec9        bool
}

type challengeProgress struct {
	purchases  int64
	partners   []int32  // distinct partners seen, up to the target
	categories []string // distinct categories seen, up to the target (SPEC §10.3)
	done       bool
}

// memberRetail holds a member's SPEC §10 state: 40 bytes plus its offers.
type memberRetail struct {
	offers       []int64 // per offer index: valid until; noOffer: not held
	dayEarned    int64   // purchase points earned on day
	day          int32   // dayKey of the counters
	dayPurchases int32   // accepted purchases on day
}

type actionCount struct {
	month int32
	count int32
}

// record is what an id keeps for good (SPEC §6): its payload digest and its
// first result, and for purchases, redemptions and holds their details.
// A store-backed engine keeps only a window of them resident (records.go).
type record struct {
	id        string // arena-backed
	hash      uint64
	points    int64
	available int64
	pending   int64
	held      int64
	created   uint64 // position of the Apply that made it (SetPosition)
	changed   uint64 // position of its last change: its store write may lag
	ref       int32  // index into purchases, redemptions or holds; -1 none
	member    int32
	typ       CommandType
	err       ErrorCode
	tier      uint8
	dirty     bool // changed since the last AppendDirty
}

type purchaseRec struct {
	amount     int64
	points     int64 // P: the points the purchase earned (its own lot)
	refunded   int64
	member     int32
	partner    int32
	lot        int32 // -1: no lot
	lastRefund int32 // index into refunds of its latest refund event; -1 none
}

// refundEvent is one refund of a purchase: the history a store-backed
// engine needs to read a stored purchase as of an earlier position.
type refundEvent struct {
	pos   uint64
	after int64 // the purchase's refunded amount after this refund
	prev  int32 // the purchase's previous event; -1 none
}

type redemptionRec struct {
	points    int64
	partsOff  uint32
	partsLen  uint32
	member    int32
	partner   int32
	reward    int32 // a claim's reward index (read for records of type claim only)
	cancelled bool
}

type holdRec struct {
	points     int64
	deadlineMS int64
	partsOff   uint32
	partsLen   uint32
	member     int32
	partner    int32
	open       bool
}

// arena stores strings that live as long as the engine, in large chunks, so
// that interning an id or a member name allocates nothing per command.
type arena struct {
	chunk []byte
}

const arenaChunk = 1 << 20

func (a *arena) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(a.chunk)-len(a.chunk) < len(b) {
		a.chunk = make([]byte, 0, max(arenaChunk, len(b)))
	}
	off := len(a.chunk)
	a.chunk = append(a.chunk, b...)
	s := a.chunk[off:len(a.chunk):len(a.chunk)]
	return unsafe.String(&s[0], len(s))
}
