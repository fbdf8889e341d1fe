package workload

import (
	"errors"
	"fmt"
	"io"
	"math"
)

// Profile names a workload shape (members, partners, command mix, program).
type Profile string

// The profiles.
const (
	Payback  Profile = "payback"
	Cashback Profile = "cashback"
	Airline  Profile = "airline"
	Club     Profile = "club"
)

// Profiles lists every profile, in a fixed order.
var Profiles = []Profile{Payback, Cashback, Airline, Club}

// Config describes one stream. New fills zero fields (except Seed) with the
// profile's defaults, see DefaultConfig.
type Config struct {
	Profile        Profile
	Seed           uint64
	Members        int   // member population; activity is Zipf-skewed over it
	Partners       int   // payback: any count >= 1; other profiles: fixed (2, 3, 4)
	StartMS        int64 // Unix milliseconds of the first command (0 = 2026-01-01T00:00:00Z)
	CommandsPerDay int64 // rate at which `at` advances
	TickEvery      int   // a tick every TickEvery commands; 0 = profile default (10000), < 0 = no ticks
}

// Start2026 is 2026-01-01T00:00:00Z in Unix milliseconds, the default StartMS.
const Start2026 int64 = 1_767_225_600_000

const defaultTickEvery = 10_000

// DefaultConfig returns the profile's default configuration (Seed 0).
func DefaultConfig(p Profile) Config {
	c := Config{Profile: p, StartMS: Start2026, TickEvery: defaultTickEvery}
	switch p {
	case Payback:
		c.Members, c.Partners, c.CommandsPerDay = 35_000_000, 700, 5_000_000
	case Cashback:
		c.Members, c.Partners, c.CommandsPerDay = 10_000_000, 2, 15_000_000
	case Airline:
		c.Members, c.Partners, c.CommandsPerDay = 2_000_000, 3, 300_000
	case Club:
		c.Members, c.Partners, c.CommandsPerDay = 1_000_000, 4, 500_000
	}
	return c
}

type kind uint8

const (
	kPurchase kind = iota
	kRefund
	kRedeem
	kCancel
	kAdjust
	kMembership
	kHold
	kReferral
	kAction
	kTransfer
	kQuote
	kTick
	kCapture
	kRelease
	nKinds
)

var kindNames = [nKinds]string{"purchase", "refund", "redeem", "cancel_redemption", "adjust",
	"membership", "hold", "referral", "action", "transfer", "quote", "tick", "capture", "release"}

type mixEntry struct {
	k  kind
	bp int // basis points of the non-tick, non-follow-up commands
}

// The command mixes (basis points, each sums to 10000). Ticks come on top,
// one every TickEvery commands; the club's captures and releases follow
// their holds on top of the mix.
var mixes = map[Profile][]mixEntry{
	Payback:  {{kPurchase, 8500}, {kRefund, 600}, {kRedeem, 600}, {kCancel, 100}, {kAdjust, 200}},
	Cashback: {{kPurchase, 9300}, {kRefund, 500}, {kRedeem, 150}, {kAdjust, 50}},
	Airline:  {{kPurchase, 8600}, {kRefund, 500}, {kRedeem, 600}, {kCancel, 100}, {kAdjust, 200}},
	Club: {{kPurchase, 7000}, {kHold, 900}, {kAction, 600}, {kMembership, 300}, {kReferral, 300},
		{kTransfer, 300}, {kRefund, 300}, {kRedeem, 100}, {kAdjust, 100}, {kQuote, 100}},
}

type purchaseRec struct {
	seq      uint64
	member   uint64
	amount   int64
	refunded int64
	partner  uint32
	// purchases currently under the ring's slot
}

const (
	opCaptureAll = iota
	opCapturePart
	opRelease
)

type followUp struct {
	hold   uint64
	due    int64
	points int64
	op     uint8
}

const (
	purchaseRing = 1 << 15
	smallRing    = 1 << 12
	usedSlot     = math.MaxUint64
)

// Generator produces one deterministic command stream. It is not safe for
// concurrent use; run one Generator per goroutine (with different seeds).
type Generator struct {
	cfg       Config
	r         rng
	seq       uint64
	idPrefix  string
	cpd       uint64
	jitter    uint64 // at = nominal ± jitter/2
	tickEvery uint64
	ts        tsCache

	members   uint64
	mz        zipf
	mp        perm
	memPrefix string
	memWidth  int
	nextNew   uint64

	pal        alias
	partnerIDs [][]byte
	partnerCat []int8
	partnerAmt []*lognormal
	catAlias   alias
	airClass   alias

	mixCum  [nKinds]uint64
	mixKind [nKinds]kind
	nMix    int

	purchases   []purchaseRec
	pN          uint64
	redemptions []uint64
	rN          uint64
	followups   []followUp
	fHead       uint64
	fTail       uint64
	referred    []uint64
	qHead       uint64
	qTail       uint64

	program  string
	heads    [nKinds]string // `{"type":"<kind>","id":"<profile>-`
	memField string         // `,"member":"<prefix>`
}

// New validates cfg (filling zero fields with the profile's defaults) and
// builds a generator. Setup costs O(Partners + log Members) time and memory.
func New(cfg Config) (*Generator, error) {
	def := DefaultConfig(cfg.Profile)
	if def.Members == 0 {
		return nil, fmt.Errorf("workload: unknown profile %q", cfg.Profile)
	}
	if cfg.Members == 0 {
		cfg.Members = def.Members
	}
	if cfg.Partners == 0 {
		cfg.Partners = def.Partners
	}
	if cfg.StartMS == 0 {
		cfg.StartMS = def.StartMS
	}
	if cfg.CommandsPerDay == 0 {
		cfg.CommandsPerDay = def.CommandsPerDay
	}
	if cfg.TickEvery == 0 {
		cfg.TickEvery = def.TickEvery
	}
	switch {
	case cfg.Members < 1 || uint64(cfg.Members) > 1<<32:
		return nil, errors.New("workload: Members must be in 1 … 2^32")
	case cfg.Profile == Payback && (cfg.Partners < 1 || cfg.Partners > 100_000):
		return nil, errors.New("workload: Partners must be in 1 … 100000")
	case cfg.Profile != Payback && cfg.Partners != def.Partners:
		return nil, fmt.Errorf("workload: profile %s has exactly %d partners", cfg.Profile, def.Partners)
	case cfg.StartMS < 0 || cfg.StartMS >= 253_402_300_800_000-100*365*msPerDay: // keep years < 9900
		return nil, errors.New("workload: StartMS out of range")
	case cfg.CommandsPerDay < 1 || cfg.CommandsPerDay > 1<<40:
		return nil, errors.New("workload: CommandsPerDay must be in 1 … 2^40")
	}

	g := &Generator{
		cfg:         cfg,
		r:           newRNG(cfg.Seed),
		idPrefix:    string(cfg.Profile) + "-",
		cpd:         uint64(cfg.CommandsPerDay),
		members:     uint64(cfg.Members),
		purchases:   make([]purchaseRec, purchaseRing),
		redemptions: make([]uint64, smallRing),
		followups:   make([]followUp, smallRing),
		referred:    make([]uint64, smallRing),
	}
	g.ts.sec = -1
	for k := range nKinds {
		g.heads[k] = `{"type":"` + kindNames[k] + `","id":"` + g.idPrefix
	}
	g.heads[kTick] = `{"type":"tick","id":"` + g.idPrefix
	if cfg.TickEvery > 0 {
		g.tickEvery = uint64(cfg.TickEvery)
	}
	interval := uint64(msPerDay) / g.cpd
	g.jitter = 2*min(max(3*interval, 1), 1000) + 1

	g.mz = newZipf(g.members, 1.1)
	g.mp = newPerm(&g.r, g.members)
	g.memWidth = digits(g.members - 1)

	var sum uint64
	for i, e := range mixes[cfg.Profile] {
		sum += uint64(e.bp)
		g.mixCum[i] = sum << 32 / 10000
		g.mixKind[i] = e.k
		g.nMix = i + 1
	}

	switch cfg.Profile {
	case Payback:
		g.memPrefix = "M"
		w := partnerWidth(cfg.Partners)
		weights := make([]float64, cfg.Partners)
		for i := range weights {
			weights[i] = math.Pow(float64(i+1), -1.0)
			g.partnerIDs = append(g.partnerIDs, paybackPartnerID(nil, i, w))
			g.partnerCat = append(g.partnerCat, int8(paybackPartnerCategory(i)))
		}
		g.pal = newAlias(weights)
		amt := newLognormal(3000, 0.9, 1, 1e12)
		for range cfg.Partners {
			g.partnerAmt = append(g.partnerAmt, amt)
		}
		g.program = paybackProgram(cfg.Partners)
	case Cashback:
		g.memPrefix = "card:"
		g.memWidth = 0
		g.partnerIDs = [][]byte{[]byte("visa-acq"), []byte("mc-acq")}
		g.pal = newAlias([]float64{60, 40})
		amt := newLognormal(90000, 1.1, 100, 1e12)
		g.partnerAmt = []*lognormal{amt, amt}
		g.catAlias = newAlias(cashbackCategoryWeights[:])
		g.program = cashbackProgram
	case Airline:
		g.memPrefix = "FF"
		g.partnerIDs = [][]byte{[]byte("air"), []byte("hotel"), []byte("cars")}
		g.pal = newAlias([]float64{75, 15, 10})
		g.partnerAmt = []*lognormal{
			newLognormal(30000, 0.8, 1000, 1e12),
			newLognormal(20000, 0.7, 1000, 1e12),
			newLognormal(9000, 0.6, 1000, 1e12),
		}
		g.airClass = newAlias([]float64{85, 13, 2})
		g.program = airlineProgram
	case Club:
		g.memPrefix = "C"
		g.partnerIDs = [][]byte{[]byte("shop"), []byte("cafe"), []byte("cinema"), []byte("greenco")}
		g.pal = newAlias([]float64{60, 25, 10, 5})
		g.partnerAmt = []*lognormal{
			newLognormal(4000, 0.9, 50, 1e12),
			newLognormal(900, 0.5, 50, 1e12),
			newLognormal(2400, 0.4, 50, 1e12),
			newLognormal(1500, 0.8, 50, 1e12),
		}
		g.program = clubProgram
	}
	g.memField = `,"member":"` + g.memPrefix
	return g, nil
}

// Config returns the effective configuration (defaults filled in).
func (g *Generator) Config() Config { return g.cfg }

// Program returns the program (YAML) this stream is written for. For the
// default configurations it equals testdata/bench/<profile>.yaml.
func (g *Generator) Program() []byte { return []byte(g.program) }

// Count is the number of commands generated so far.
func (g *Generator) Count() int64 { return int64(g.seq) }

// nominal is the undisturbed time of command n.
func (g *Generator) nominal(n uint64) int64 {
	return g.cfg.StartMS + int64(n/g.cpd)*msPerDay + int64((n%g.cpd)*msPerDay/g.cpd)
}

// at is the command's `at`: nominal with a small jitter, or, for 0.5% of the
// commands, late by 1 minute … 3 hours (never before StartMS).
func (g *Generator) at(nominal int64) int64 {
	x := g.r.next()
	var t int64
	if x>>48 < 328 {
		t = nominal - 60_000 - int64(((x&0xffffffff)*(3*3_600_000-60_000))>>32)
	} else {
		t = nominal + int64(((x&0xffffffff)*g.jitter)>>32) - int64(g.jitter/2)
	}
	return max(t, g.cfg.StartMS)
}

// Next appends one command (an NDJSON line ending in '\n') to dst.
func (g *Generator) Next(dst []byte) []byte {
	n := g.seq
	g.seq++
	nominal := g.nominal(n)
	if g.tickEvery > 0 && (n+1)%g.tickEvery == 0 {
		dst = g.head(dst, kTick, n)
		return g.tail(dst, nominal)
	}
	if g.fHead != g.fTail {
		if f := &g.followups[g.fHead%smallRing]; f.due <= nominal {
			g.fHead++
			return g.followUp(dst, n, f)
		}
	}
	at := g.at(nominal)
	u := g.r.next() >> 32
	k := g.mixKind[g.nMix-1]
	for i := 0; i < g.nMix-1; i++ {
		if u < g.mixCum[i] {
			k = g.mixKind[i]
			break
		}
	}
	switch k {
	case kRefund:
		if d, ok := g.refund(dst, n, at); ok {
			return d
		}
	case kRedeem:
		return g.redeem(dst, n, at)
	case kCancel:
		if d, ok := g.cancel(dst, n, at); ok {
			return d
		}
	case kAdjust:
		return g.adjust(dst, n, at)
	case kMembership:
		dst = g.head(dst, kMembership, n)
		dst = g.member(dst, g.zipfMember())
		if g.r.chance(65536 * 85 / 100) {
			dst = append(dst, `,"plan":"plus"`...)
		} else {
			dst = append(dst, `,"plan":"max"`...)
		}
		return g.tail(dst, at)
	case kHold:
		if d, ok := g.hold(dst, n, at, nominal); ok {
			return d
		}
	case kReferral:
		if d, ok := g.referral(dst, n, at); ok {
			return d
		}
	case kAction:
		dst = g.head(dst, kAction, n)
		dst = g.member(dst, g.zipfMember())
		switch x := g.r.next() >> 48; {
		case x < 65536*40/100:
			dst = append(dst, `,"action":"battery-recycling"`...)
		case x < 65536*60/100:
			dst = append(dst, `,"action":"app-review"`...)
		default:
			dst = append(dst, `,"action":"bike-commute"`...)
		}
		return g.tail(dst, at)
	case kTransfer:
		if d, ok := g.transfer(dst, n, at); ok {
			return d
		}
	case kQuote:
		dst = append(dst, `{"type":"quote"`...)
		p := g.pal.sample(&g.r)
		dst = g.member(dst, g.zipfMember())
		dst = g.partner(dst, p)
		dst = append(dst, `,"amount":`...)
		dst = appendInt(dst, g.partnerAmt[p].sample(&g.r))
		return g.tail(dst, at)
	}
	return g.purchase(dst, n, at)
}

func (g *Generator) head(dst []byte, k kind, n uint64) []byte {
	dst = append(dst, g.heads[k]...)
	dst = appendPadded(dst, n, 0)
	return append(dst, '"')
}

func (g *Generator) ref(dst []byte, field string, seq uint64) []byte {
	dst = append(dst, field...)
	dst = append(dst, g.idPrefix...)
	dst = appendPadded(dst, seq, 0)
	return append(dst, '"')
}

func (g *Generator) tail(dst []byte, at int64) []byte {
	dst = append(dst, `,"at":"`...)
	dst = g.ts.appendTS(dst, at)
	return append(dst, "\"}\n"...)
}

func (g *Generator) zipfMember() uint64 { return g.mp.apply(g.mz.sample(&g.r)) }

func (g *Generator) member(dst []byte, m uint64) []byte {
	dst = append(dst, g.memField...)
	dst = appendPadded(dst, m, g.memWidth)
	return append(dst, '"')
}

func (g *Generator) partner(dst []byte, p int) []byte {
	dst = append(dst, `,"partner":"`...)
	dst = append(dst, g.partnerIDs[p]...)
	return append(dst, '"')
}

func (g *Generator) purchase(dst []byte, n uint64, at int64) []byte {
	m := uint64(0)
	if g.cfg.Profile == Club && g.qHead != g.qTail && g.r.chance(65536/4) {
		m = g.referred[g.qHead%smallRing] // a referred member's first purchase
		g.qHead++
	} else {
		m = g.zipfMember()
	}
	p := g.pal.sample(&g.r)
	amount := g.partnerAmt[p].sample(&g.r)
	var cat string
	switch g.cfg.Profile {
	case Payback:
		switch x := g.r.next(); {
		case x>>48 < 65536*85/100:
			cat = paybackCategories[g.partnerCat[p]]
		case x>>48 < 65536*95/100:
			cat = paybackCategories[(x&0xffffffff)*uint64(len(paybackCategories))>>32]
		}
	case Cashback:
		cat = cashbackCategories[g.catAlias.sample(&g.r)]
	case Airline:
		switch p {
		case 0:
			switch g.airClass.sample(&g.r) {
			case 0:
				cat = "economy"
			case 1:
				cat, amount = "business", min(amount*4, 1e12)
			default:
				cat, amount = "first", min(amount*8, 1e12)
			}
		case 1:
			cat = "hotel"
		default:
			cat = "car"
		}
	case Club:
		switch p {
		case 0:
			if g.r.chance(65536 * 6 / 10) {
				cat = "fashion"
			} else {
				cat = "home"
			}
		case 1:
			cat = "dining"
		case 2:
			cat = "entertainment"
		}
	}
	g.purchases[g.pN%purchaseRing] = purchaseRec{seq: n, member: m, amount: amount, partner: uint32(p)}
	g.pN++

	dst = g.head(dst, kPurchase, n)
	dst = g.member(dst, m)
	dst = g.partner(dst, p)
	dst = append(dst, `,"amount":`...)
	dst = appendInt(dst, amount)
	if cat != "" {
		dst = append(dst, `,"category":"`...)
		dst = append(dst, cat...)
		dst = append(dst, '"')
	}
	return g.tail(dst, at)
}

// recentPurchase picks a purchase from the ring (nil if none yet).
func (g *Generator) recentPurchase() *purchaseRec {
	c := min(g.pN, purchaseRing)
	if c == 0 {
		return nil
	}
	return &g.purchases[g.r.intn(c)]
}

// refund refunds part or all of what is left of a recent purchase, naming
// its member and partner. Payback/club: half full, half partial; cashback:
// 70% full (chargebacks and returns), airline: 80% full (cancelled trips).
func (g *Generator) refund(dst []byte, n uint64, at int64) ([]byte, bool) {
	for range 4 {
		rec := g.recentPurchase()
		if rec == nil {
			return dst, false
		}
		left := rec.amount - rec.refunded
		if left <= 0 {
			continue
		}
		full := uint32(65536 / 2)
		switch g.cfg.Profile {
		case Cashback:
			full = 65536 * 7 / 10
		case Airline:
			full = 65536 * 8 / 10
		}
		amount := left
		if !g.r.chance(full) && left > 1 {
			amount = g.r.rangeIn(1, left-1)
		}
		rec.refunded += amount
		dst = g.head(dst, kRefund, n)
		dst = g.member(dst, rec.member)
		dst = g.partner(dst, int(rec.partner))
		dst = g.ref(dst, `,"original":"`, rec.seq)
		dst = append(dst, `,"amount":`...)
		dst = appendInt(dst, amount)
		return g.tail(dst, at), true
	}
	return dst, false
}

// spender is a member who has purchased recently (half of the time) or a
// Zipf-drawn member: redemptions, holds and transfers come from members
// likely to hold points.
func (g *Generator) spender() uint64 {
	if g.r.chance(65536/2) || g.cfg.Profile == Club {
		if rec := g.recentPurchase(); rec != nil {
			return rec.member
		}
	}
	return g.zipfMember()
}

func (g *Generator) redeem(dst []byte, n uint64, at int64) []byte {
	m := g.spender()
	p := g.pal.sample(&g.r)
	var pts int64
	switch g.cfg.Profile {
	case Payback:
		pts = g.r.rangeIn(20, 2000)
	case Cashback:
		pts = 100 * g.r.rangeIn(100, 3000)
	case Airline:
		pts = 5000 + 500*g.r.rangeIn(0, 190)
	default:
		pts = g.r.rangeIn(10, 500)
		if p == 3 {
			p = 0
		}
	}
	g.redemptions[g.rN%smallRing] = n
	g.rN++
	dst = g.head(dst, kRedeem, n)
	dst = g.member(dst, m)
	dst = g.partner(dst, p)
	dst = append(dst, `,"points":`...)
	dst = appendInt(dst, pts)
	return g.tail(dst, at)
}

func (g *Generator) cancel(dst []byte, n uint64, at int64) ([]byte, bool) {
	c := min(g.rN, smallRing)
	if c == 0 {
		return dst, false
	}
	for range 4 {
		slot := &g.redemptions[g.r.intn(c)]
		if *slot == usedSlot {
			continue
		}
		orig := *slot
		*slot = usedSlot
		dst = g.head(dst, kCancel, n)
		dst = g.ref(dst, `,"original":"`, orig)
		return g.tail(dst, at), true
	}
	return dst, false
}

func (g *Generator) adjust(dst []byte, n uint64, at int64) []byte {
	var lo, hi int64
	switch g.cfg.Profile {
	case Payback:
		lo, hi = 10, 1000
	case Cashback:
		lo, hi = 100, 50000
	case Airline:
		lo, hi = 500, 20000
	default:
		lo, hi = 10, 500
	}
	pts := g.r.rangeIn(lo, hi)
	x := g.r.next() >> 48
	if x < 65536/4 {
		pts = -pts
	}
	dst = g.head(dst, kAdjust, n)
	dst = g.member(dst, g.zipfMember())
	dst = append(dst, `,"points":`...)
	dst = appendInt(dst, pts)
	switch y := x & 0xff; {
	case y < 77:
		dst = append(dst, `,"reason":"goodwill"`...)
	case y < 102:
		dst = append(dst, `,"reason":"correction"`...)
	case y < 115:
		dst = append(dst, `,"reason":"service-recovery"`...)
	}
	return g.tail(dst, at)
}

// hold (club) takes 10 … 300 points of a recent purchaser at a till partner
// and schedules, 1 … 20 s later, a full capture (56%), a partial capture
// (24%), a release (15%) or nothing (5%: the hold times out).
func (g *Generator) hold(dst []byte, n uint64, at, nominal int64) ([]byte, bool) {
	rec := g.recentPurchase()
	if rec == nil {
		return dst, false
	}
	p := g.pal.sample(&g.r)
	if p == 3 {
		p = 0
	}
	pts := g.r.rangeIn(10, 300)
	x := g.r.next()
	dst = g.head(dst, kHold, n)
	dst = g.member(dst, rec.member)
	dst = g.partner(dst, p)
	dst = append(dst, `,"points":`...)
	dst = appendInt(dst, pts)
	if x>>48 < 65536/5 {
		dst = append(dst, `,"timeout_s":300`...)
	}
	if g.fTail-g.fHead < smallRing {
		var op uint8
		switch y := (x >> 32) & 0xffff; {
		case y < 65536*56/100:
			op = opCaptureAll
		case y < 65536*80/100:
			op = opCapturePart
		case y < 65536*95/100:
			op = opRelease
		default:
			return g.tail(dst, at), true
		}
		g.followups[g.fTail%smallRing] = followUp{
			hold: n, due: nominal + 1000 + int64(((x&0xffffffff)*19_000)>>32), points: pts, op: op,
		}
		g.fTail++
	}
	return g.tail(dst, at), true
}

func (g *Generator) followUp(dst []byte, n uint64, f *followUp) []byte {
	switch f.op {
	case opRelease:
		dst = g.head(dst, kRelease, n)
		dst = g.ref(dst, `,"original":"`, f.hold)
	case opCapturePart:
		dst = g.head(dst, kCapture, n)
		dst = g.ref(dst, `,"original":"`, f.hold)
		dst = append(dst, `,"points":`...)
		dst = appendInt(dst, g.r.rangeIn(1, f.points))
	default:
		dst = g.head(dst, kCapture, n)
		dst = g.ref(dst, `,"original":"`, f.hold)
	}
	return g.tail(dst, f.due)
}

// referral (club): a recent purchaser refers a brand-new member (ids from
// Members upwards); a quarter of the next purchases go to referred members
// until each made its first.
func (g *Generator) referral(dst []byte, n uint64, at int64) ([]byte, bool) {
	rec := g.recentPurchase()
	if rec == nil {
		return dst, false
	}
	nm := g.members + g.nextNew
	g.nextNew++
	if g.qTail-g.qHead == smallRing {
		g.qHead++
	}
	g.referred[g.qTail%smallRing] = nm
	g.qTail++
	dst = g.head(dst, kReferral, n)
	dst = g.member(dst, rec.member)
	dst = append(dst, `,"referred":"`...)
	dst = append(dst, g.memPrefix...)
	dst = appendPadded(dst, nm, g.memWidth)
	dst = append(dst, '"')
	return g.tail(dst, at), true
}

func (g *Generator) transfer(dst []byte, n uint64, at int64) ([]byte, bool) {
	rec := g.recentPurchase()
	if rec == nil {
		return dst, false
	}
	to := g.zipfMember()
	if to == rec.member {
		to = (to + 1) % g.members
		if to == rec.member { // a single-member population
			return dst, false
		}
	}
	dst = g.head(dst, kTransfer, n)
	dst = g.member(dst, rec.member)
	dst = append(dst, `,"to":"`...)
	dst = append(dst, g.memPrefix...)
	dst = appendPadded(dst, to, g.memWidth)
	dst = append(dst, `","points":`...)
	dst = appendInt(dst, 10*g.r.rangeIn(2, 50))
	return g.tail(dst, at), true
}

// Write writes count commands of the stream cfg describes to w.
func Write(w io.Writer, cfg Config, count int64) error {
	g, err := New(cfg)
	if err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for i := int64(0); i < count; i++ {
		buf = g.Next(buf)
		if len(buf) >= 1<<16-1024 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err = w.Write(buf)
	return err
}
