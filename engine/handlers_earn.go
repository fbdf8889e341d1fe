package engine

// Commands that earn or give back earned points: purchase and refund, and
// quote, which answers what a purchase would earn.

func (e *Engine) purchase(c *Command, t int64, ri int32) (int32, int64, ErrorCode) {
	pi := e.prog.partner(c.Partner)
	if pi < 0 {
		return -1, 0, ErrUnknownPartner
	}
	mi := e.lookup(c.Member)
	if lim := e.prog.PurchasesPerDay; lim > 0 && mi >= 0 {
		if n, _ := e.members.at(mi).today(t); n >= lim {
			return -1, 0, ErrVelocityLimit
		}
	}
	isNew := mi < 0
	if isNew {
		mi = e.create(c.Member, t)
	} else {
		e.bring(mi, t)
	}
	m := e.members.at(mi)
	before := m.available() + m.get(bPending)
	total, _, ok := e.earn(m, pi, c.Amount, c.Category, t)
	metricAdd := c.Amount
	if e.prog.Metric == "purchases" {
		metricAdd = 1
	}
	var refBonus, refererBonus int64
	referrer := int32(-1)
	if !m.firstDone() && m.ext != nil && m.ext.referrer >= 0 {
		referrer = m.ext.referrer
		refBonus, refererBonus = e.prog.ReferredPoints, e.prog.ReferrerPoints
	}
	ok = ok && addFits(m.get(bAvail)+m.get(bPending)+m.held(), total+refBonus+e.maxChallengeBonus()) &&
		addFits(m.get(bEarned), total+refBonus+e.maxChallengeBonus()) && addFits(m.get(bMetric), metricAdd) &&
		addFits(m.get(bMonthEarned), total) && addFits(-e.partnerIssued[pi], total)
	if referrer >= 0 {
		r := e.members.at(referrer)
		ok = ok && addFits(r.get(bAvail)+r.get(bPending)+r.held(), refererBonus) && addFits(r.get(bEarned), refererBonus)
	}
	if !ok {
		if isNew {
			e.dropLast()
		}
		return -1, 0, ErrOverflow
	}
	matureAt := t + e.prog.PendingDays*msPerDay
	expiresAt := e.prog.expiresAt(t)
	rec := purchaseRec{amount: c.Amount, points: total, member: mi, partner: pi, lot: -1, lastRefund: -1}
	if total > 0 {
		rec.lot = e.addLot(m, mi, total, matureAt, expiresAt, t)
		e.record(KindEarn, t, e.lotAcct(mi, matureAt, t), partnerAcct(AccountPartnerIssued, pi), total)
		if int64(m.month) != monthKey(t) {
			m.month = int32(monthKey(t))
			m.set(bMonthEarned, 0)
		}
		m.add(bMonthEarned, total)
		m.add(bEarned, total)
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
	e.challenges(m, mi, pi, c.Amount, c.Category, expiresAt, t)
	e.commitRetail(m, pi, c.Amount, c.Category, total, t)
	m.yf |= memberFirstDone
	m.add(bMetric, metricAdd)
	e.activity(m, mi, t)
	e.repayDebt(m)
	e.recs.at(ri).ref = e.buys.put(rec)
	return mi, before, OK
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
	if e.nameOf(e.members.at(pr.member)) != string(c.Member) || pr.partner != pi {
		return -1, 0, ErrOriginalMismatch
	}
	if pr.refunded+c.Amount > pr.amount {
		return -1, 0, ErrRefundExceedsPurchase
	}
	mi := pr.member
	r0, r1 := pr.refunded, pr.refunded+c.Amount
	claw := mulDivFloor([5]int64{pr.points, r1, 1, 1, 1}, pr.amount, 1) - mulDivFloor([5]int64{pr.points, r0, 1, 1, 1}, pr.amount, 1)
	m := e.members.at(mi)
	if !addFits(m.debt(), claw) || !addFits(m.get(bEarned), -claw) {
		return -1, 0, ErrOverflow
	}
	e.bring(mi, t)
	before := m.available() + m.get(bPending)
	rest := claw
	if pr.lot >= 0 {
		l := &lot{matureAtMS: maturedMark} // a dropped lot: empty and matured
		if pr.lot >= m.lotBase {
			l = &m.lots()[pr.lot-m.lotBase]
		}
		take := min(l.points, rest)
		l.points -= take
		rest -= take
		if l.pending() {
			m.add(bPending, -take)
			e.record(KindClawback, t, partnerAcct(AccountPartnerIssued, pi), memberAcct(AccountMemberPending, mi), take)
		} else {
			m.add(bAvail, -take)
			e.record(KindClawback, t, partnerAcct(AccountPartnerIssued, pi), memberAcct(AccountMemberAvailable, mi), take)
		}
	}
	if rest > 0 {
		missing := e.consume(m, rest, false)
		e.addDebt(m, missing)
		e.record(KindClawback, t, partnerAcct(AccountPartnerIssued, pi), memberAcct(AccountMemberAvailable, mi), rest)
	}
	e.compact(m)
	m.add(bEarned, -claw)
	e.partnerIssued[pi] += claw
	if e.prog.Metric == "spend" {
		m.set(bMetric, max(0, m.get(bMetric)-c.Amount))
	}
	pr.refunded = r1
	e.noteRefund(oi, pr)
	return mi, before, OK
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
		e.viewM.setLots(nil)
		if x := e.viewM.ext; x != nil {
			e.viewExt = *x // rollYear may change the copy's wide values
			e.viewM.ext = &e.viewExt
		}
		m = &e.viewM
		e.rollYear(m, t)
	} else {
		e.viewM = member{month: int32(monthKey(t))}
		e.viewM.setYear(yearOf(t))
		m = &e.viewM
	}
	total, tier, _ := e.earn(m, pi, c.Amount, c.Category, t)
	res.Points = min(total, bound)
	res.Tier = tier
	res.Discount = mulDivFloor([5]int64{c.Amount, e.prog.Levels[tier].DiscountBP, 1, 1, 1}, 10000, 1)
	return res
}
