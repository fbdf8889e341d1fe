package workload

// The encoders of the commands: each appends one command line and keeps
// the state later commands refer back to (purchases, redemptions, holds).

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
