package workload

import (
	"io"
	"math"
)

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
	cfg, err := cfg.resolve()
	if err != nil {
		return nil, err
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

	g.mz = newZipf(g.members, cfg.Skew)
	g.mp = newPerm(&g.r, g.members)
	g.memWidth = digits(g.members - 1)

	var sum uint64
	for i, e := range mixes[cfg.Profile] {
		sum += uint64(e.bp)
		g.mixCum[i] = sum << 32 / 10000
		g.mixKind[i] = e.k
		g.nMix = i + 1
	}
	g.setupProfile()
	g.memField = `,"member":"` + g.memPrefix
	return g, nil
}

// setupProfile sets what differs by profile: member ids, partners and
// their amount distributions, and the program.
func (g *Generator) setupProfile() {
	switch g.cfg.Profile {
	case Payback:
		g.setupPayback()
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
}

// setupPayback: Partners partners, Zipf(s=1) by size, each with a primary
// category; one amount distribution for all.
func (g *Generator) setupPayback() {
	g.memPrefix = "M"
	w := partnerWidth(g.cfg.Partners)
	weights := make([]float64, g.cfg.Partners)
	for i := range weights {
		weights[i] = math.Pow(float64(i+1), -1.0)
		g.partnerIDs = append(g.partnerIDs, paybackPartnerID(nil, i, w))
		g.partnerCat = append(g.partnerCat, int8(paybackPartnerCategory(i)))
	}
	g.pal = newAlias(weights)
	amt := newLognormal(3000, 0.9, 1, 1e12)
	for range g.cfg.Partners {
		g.partnerAmt = append(g.partnerAmt, amt)
	}
	g.program = paybackProgram(g.cfg.Partners)
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
