package engine

// Commands about a member rather than a purchase: adjust, membership,
// referral, action and transfer.

func (e *Engine) adjust(c *Command, t int64) (int32, int64, ErrorCode) {
	mi := e.lookup(c.Member)
	isNew := mi < 0
	if !isNew {
		m := e.members.at(mi)
		if !addFits(m.get(bEarned), c.Points) || !addFits(m.get(bAvail)+m.get(bPending)+m.held(), c.Points) || !addFits(m.debt(), -c.Points) ||
			!addFits(e.adjustments, -c.Points) {
			return -1, 0, ErrOverflow
		}
		e.bring(mi, t)
	} else {
		mi = e.create(c.Member, t)
	}
	m := e.members.at(mi)
	before := m.available() + m.get(bPending)
	if c.Points > 0 {
		e.addLot(m, mi, c.Points, t, e.prog.expiresAt(t), t)
		e.record(KindAdjust, t, memberAcct(AccountMemberAvailable, mi), adjustmentsAcct, c.Points)
		e.repayDebt(m)
	} else {
		missing := e.consume(m, -c.Points, false)
		e.addDebt(m, missing)
		e.record(KindAdjust, t, adjustmentsAcct, memberAcct(AccountMemberAvailable, mi), -c.Points)
	}
	m.add(bEarned, c.Points)
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
	return mi, m.available() + m.get(bPending), OK
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
	return mi, m.available() + m.get(bPending), OK
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
		if !addFits(m.get(bEarned), a.Points) || !addFits(m.get(bAvail)+m.get(bPending)+m.held(), a.Points) {
			return -1, 0, ErrOverflow
		}
		e.bring(mi, t)
	} else {
		mi = e.create(c.Member, t)
	}
	m := e.members.at(mi)
	before := m.available() + m.get(bPending)
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
		m.add(bEarned, a.Points)
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
		if !addFits(r.get(bEarned), c.Points) || !addFits(r.get(bAvail)+r.get(bPending)+r.held(), c.Points) {
			e.rollback(si)
			return -1, 0, ErrOverflow
		}
	}
	e.keep()
	s := e.members.at(si)
	before := s.available() + s.get(bPending)
	off := len(e.parts)
	left := e.consume(s, c.Points, true)
	assert(left == 0, "transfer consumed less than available")
	s.add(bEarned, -c.Points)
	e.activity(s, si, t)
	if ri < 0 {
		ri = e.create(c.To, t)
	} else {
		e.bring(ri, t)
	}
	s = e.members.at(si)
	r := e.members.at(ri)
	for _, p := range e.parts[off:] {
		e.addLot(r, ri, p.points, t, p.expiresAtMS, t)
	}
	e.parts = e.parts[:off]
	r.add(bEarned, c.Points)
	e.record(KindTransfer, t, memberAcct(AccountMemberAvailable, ri), memberAcct(AccountMemberAvailable, si), c.Points)
	e.repayDebt(r)
	return si, before, OK
}
