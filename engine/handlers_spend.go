package engine

// Commands that spend points: redeem and its cancellation, claims of the
// reward catalogue (SPEC §10.5), and holds with their capture or release
// (SPEC §9.7).

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
	mi, code := e.affordable(c.Member, pi, c.Points, t, counter)
	return mi, pi, code
}

// affordable checks that member has points available at t, and that the
// counter the command raises by points stays in bounds. On success the
// member has been brought to t.
func (e *Engine) affordable(member []byte, pi int32, points, t int64, counter func(m *member, pi int32) int64) (int32, ErrorCode) {
	mi := e.lookup(member)
	if mi < 0 {
		return -1, ErrInsufficientPoints
	}
	e.tryBring(mi, t)
	m := e.members.at(mi)
	if m.available() < points {
		e.rollback(mi)
		return -1, ErrInsufficientPoints
	}
	if !addFits(counter(m, pi), points) {
		e.rollback(mi)
		return -1, ErrOverflow
	}
	e.keep()
	return mi, OK
}

func (e *Engine) redeemedCounter(m *member, pi int32) int64 {
	return max(m.get(bRedeemed), e.partnerRedeemed[pi])
}

func (e *Engine) redeem(c *Command, t int64, ri int32) (int32, int64, ErrorCode) {
	mi, pi, code := e.spendable(c, t, e.redeemedCounter)
	if code != OK {
		return -1, 0, code
	}
	return mi, e.redeemAt(mi, pi, ri, c.Points, -1, t), OK
}

// claim takes a reward of the catalogue (SPEC §10.5): a redemption of the
// reward's points at its partner, that also takes one item of its stock.
func (e *Engine) claim(c *Command, t int64, ri int32) (int32, int64, ErrorCode) {
	wi := e.prog.reward(c.Reward)
	if wi < 0 {
		return -1, 0, ErrUnknownReward
	}
	w := &e.prog.Rewards[wi]
	if w.Stock > 0 && e.claimed[wi] >= w.Stock {
		return -1, 0, ErrOutOfStock
	}
	mi, code := e.affordable(c.Member, w.partnerIdx, w.Points, t, e.redeemedCounter)
	if code != OK {
		return -1, 0, code
	}
	e.claimed[wi]++
	return mi, e.redeemAt(mi, w.partnerIdx, ri, w.Points, int32(wi), t), OK
}

// redeemAt redeems points of member mi (brought to t, with enough
// available) at partner pi as the redemption of command record ri, and
// returns the member's available + pending before.
func (e *Engine) redeemAt(mi, pi, ri int32, points int64, reward int32, t int64) int64 {
	m := e.members.at(mi)
	before := m.available() + m.get(bPending)
	off := uint32(len(e.parts))
	left := e.consume(m, points, true)
	assert(left == 0, "redeem consumed less than available")
	m.add(bRedeemed, points)
	e.partnerRedeemed[pi] += points
	e.record(KindRedeem, t, partnerAcct(AccountPartnerRedeemed, pi), memberAcct(AccountMemberAvailable, mi), points)
	e.activity(m, mi, t)
	e.recs.at(ri).ref = e.addRedemption(redemptionRec{points: points, member: mi, partner: pi, reward: reward}, off)
	return before
}

func (e *Engine) cancel(c *Command, t int64) (int32, int64, ErrorCode) {
	oi, ok := e.ids.find(idKeys{e}, c.Original)
	if !ok || detailOf(e.recs.at(oi).typ, e.recs.at(oi).err) != detailRedemption {
		return -1, 0, ErrUnknownOriginal
	}
	di := e.recs.at(oi).ref
	rd := e.redeems.at(di)
	if rd.cancelled {
		return -1, 0, ErrAlreadyCancelled
	}
	if e.recs.at(oi).typ == TypeClaim {
		e.claimed[rd.reward]-- // the item goes back to stock (SPEC §10.5)
	}
	mi := rd.member
	e.bring(mi, t)
	m := e.members.at(mi)
	before := m.available() + m.get(bPending)
	e.giveBack(m, e.redemptionParts(di))
	m.add(bRedeemed, -rd.points)
	e.partnerRedeemed[rd.partner] -= rd.points
	e.record(KindCancel, t, memberAcct(AccountMemberAvailable, mi), partnerAcct(AccountPartnerRedeemed, rd.partner), rd.points)
	rd.cancelled = true
	e.changed(oi)
	e.repayDebt(m)
	e.expire(m, mi, t)
	e.due.lower(mi, e.nextDueMS(m)) // the points given back may expire first
	return mi, before, OK
}

func (e *Engine) hold(c *Command, t int64, ri int32) (int32, int64, ErrorCode) {
	mi, pi, code := e.spendable(c, t, func(m *member, _ int32) int64 { return m.held() })
	if code != OK {
		return -1, 0, code
	}
	m := e.members.at(mi)
	before := m.available() + m.get(bPending)
	timeoutS := e.prog.HoldTimeoutS
	if c.Fields&fTimeout != 0 {
		timeoutS = c.TimeoutS
	}
	off := uint32(len(e.parts))
	left := e.consume(m, c.Points, true)
	assert(left == 0, "hold consumed less than available")
	e.addHeld(m, c.Points)
	deadline := t + timeoutS*msPerSecond
	hi := uint32(e.holds.add(holdRec{points: c.Points, deadlineMS: deadline, partsOff: off,
		partsLen: uint32(len(e.parts)) - off, member: mi, partner: pi, open: true}))
	x := e.ext(m)
	x.holds = append(x.holds, hi)
	e.due.lower(mi, deadline)
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
	before := m.available() + m.get(bPending)
	x := m.ext
	for k, v := range x.holds {
		if v == uint32(hi) {
			x.holds = append(x.holds[:k], x.holds[k+1:]...)
			break
		}
	}
	h.open = false
	e.addHeld(m, -h.points)
	if capture > 0 {
		e.capture(m, h, mi, ri, capture, t)
	}
	back := e.returnHeld(m, e.parts[h.partsOff:h.partsOff+h.partsLen], capture)
	e.record(KindRelease, t, memberAcct(AccountMemberAvailable, mi), memberAcct(AccountMemberHeld, mi), back)
	e.repayDebt(m)
	e.expire(m, mi, t)
	e.due.lower(mi, e.nextDueMS(m)) // the points given back may expire first
	return mi, before, OK
}

// capture redeems the first points of hold h, in the order they were
// taken, as the redemption of command record ri.
func (e *Engine) capture(m *member, h *holdRec, mi, ri int32, points, t int64) {
	off := uint32(len(e.parts))
	need := points
	for _, p := range e.parts[h.partsOff : h.partsOff+h.partsLen] {
		if need == 0 {
			break
		}
		take := min(p.points, need)
		e.parts = append(e.parts, part{lot: p.lot, points: take, expiresAtMS: p.expiresAtMS})
		need -= take
	}
	e.recs.at(ri).ref = e.addRedemption(redemptionRec{points: points, member: mi, partner: h.partner}, off)
	m.add(bRedeemed, points)
	e.partnerRedeemed[h.partner] += points
	e.record(KindCapture, t, partnerAcct(AccountPartnerRedeemed, h.partner), memberAcct(AccountMemberHeld, mi), points)
}

// returnHeld gives the parts ps of a closed hold, after its first captured
// points, back to their lots, and returns how many points went back.
func (e *Engine) returnHeld(m *member, ps []part, captured int64) int64 {
	skip := captured
	var back int64
	for _, p := range ps {
		take := min(p.points, skip)
		skip -= take
		if rest := p.points - take; rest > 0 {
			i := e.lotFor(m, p)
			m.lots()[i].points += rest
			m.lots()[i].expiresAtMS = p.expiresAtMS // see lotFor
			m.add(bAvail, rest)
			back += rest
			if int32(i) < m.liveFrom {
				m.liveFrom = int32(i)
			}
		}
	}
	return back
}
