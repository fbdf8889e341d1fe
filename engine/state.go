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

// member is the state of one member (SPEC §3). Fixed part: 144 bytes on
// amd64 plus the name bytes in the arena and its lots.
//
// Lot indices stored elsewhere (a purchase's lot, a part's) are absolute:
// lots[i] is lot lotBase+i. The member drops empty matured lots from the
// front (lots.go), so lots follow the member's live points, not its history.
type member struct {
	name           string
	lots           []lot
	ext            *memberExt // nil unless a §9 feature touched the member
	debt           int64
	avail          int64 // remaining points of available lots (debt not subtracted)
	pending        int64
	held           int64
	earned         int64
	redeemed       int64
	metric         int64 // this year's spend or purchase count
	monthEarned    int64
	lastActivityMS int64
	lotBase        int32  // absolute index of lots[0]: the lots dropped before it
	liveFrom       int32  // index into lots: lots before it are empty and matured
	pendFrom       int32  // index into lots: lots before it have matured
	touched        uint32 // Apply epoch that last touched the member
	month          int32  // monthKey of monthEarned
	year           int16  // calendar year of metric (SPEC times end in 9999)
	carried        uint8
	flags          uint8 // memberFirstDone, memberUnsorted
}

const (
	// memberFirstDone: the member has made its first purchase.
	memberFirstDone uint8 = 1 << iota
	// memberUnsorted: a lot's expiry is earlier than an older lot's.
	memberUnsorted
)

func (m *member) firstDone() bool { return m.flags&memberFirstDone != 0 }
func (m *member) unsorted() bool  { return m.flags&memberUnsorted != 0 }

// available is the member's available balance (SPEC §3).
func (m *member) available() int64 { return m.avail - m.debt }

// expiredPoints is what went to breakage (SPEC §8): by the balance
// identity available + pending + held = earned − redeemed − expired, which
// every command keeps, so it needs no field of its own. (Go's wrapping
// arithmetic keeps the result exact even if a partial sum overflows.)
func (m *member) expiredPoints() int64 {
	return m.earned - m.redeemed - (m.available() + m.pending + m.held)
}

// memberExt holds §9 state: 96 bytes plus its slices and retail part.
type memberExt struct {
	planUntilMS int64
	plan        int32 // -1: none
	referrer    int32 // -1: none; a referral bonus is due on the first purchase
	holds       []uint32
	challenges  []challengeProgress
	actions     []actionCount
	retail      *memberRetail // nil unless the program has offers or daily limits
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
