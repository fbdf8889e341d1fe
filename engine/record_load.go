package engine

import "fmt"

// LoadRecord makes a stored record resident for the coming Apply. value is
// what AppendDirty handed over for id; beforePosition is the position the
// coming Apply will run at (SetPosition).
//
// As-of rule: the store may be ahead of the engine (after a crash the engine
// restarts from an older snapshot while the store was written later), so
// LoadRecord ignores what was written at positions >= beforePosition: a
// record created there is not loaded (as of now the id is new), and refunds
// or a cancellation made there are dropped; replaying those commands makes
// them again, and AppendDirty writes the record anew.
//
// An id already resident is left as it is (the engine's copy is current).
// A value that does not decode, or that refers outside the engine's state,
// fails with ErrBadRecord, naming what is wrong, and changes nothing.
// LoadRecord allocates nothing once the engine is warm (its id arena aside).
func (e *Engine) LoadRecord(id, value []byte, beforePosition uint64) error {
	if _, ok := e.ids.find(idKeys{e}, id); ok {
		return nil
	}
	v := &e.res.val
	if err := decodeRecordValue(value, v); err != nil {
		return fmt.Errorf("%w: id %q: %v", ErrBadRecord, id, err)
	}
	if v.created >= beforePosition {
		return nil
	}
	v.asOf(beforePosition)
	if err := e.checkRecordValue(v); err != nil {
		return fmt.Errorf("%w: id %q: %v", ErrBadRecord, id, err)
	}
	e.install(id, v)
	return nil
}

// checkRecordValue checks a decoded value's references against the state.
func (e *Engine) checkRecordValue(v *recordValue) error {
	r := &v.row
	nm := int32(e.members.len())
	if int(r.tier) >= len(e.prog.Levels) {
		return fmt.Errorf("tier %d out of range", r.tier)
	}
	d := detailOf(r.typ, r.err)
	if r.member >= nm || (d != detailNone && r.member < 0) {
		return fmt.Errorf("member %d out of range", r.member)
	}
	np := int32(len(e.prog.Partners))
	switch d {
	case detailPurchase:
		if m := e.members.at(r.member); v.buy.partner >= np || int(v.buy.lot) >= int(m.lotBase)+len(m.lots()) {
			return fmt.Errorf("purchase partner %d or lot %d out of range", v.buy.partner, v.buy.lot)
		}
	case detailRedemption:
		if v.redeem.partner >= np {
			return fmt.Errorf("redemption partner %d out of range", v.redeem.partner)
		}
		if r.typ == TypeClaim && int(v.redeem.reward) >= len(e.claimed) {
			return fmt.Errorf("claim reward %d out of range", v.redeem.reward)
		}
		return e.checkParts(v, e.members.at(r.member))
	case detailHold:
		if int(v.holdRef) >= e.holds.len() || e.holds.at(v.holdRef).member != r.member {
			return fmt.Errorf("hold %d is not member %d's", v.holdRef, r.member)
		}
	}
	return nil
}

// checkParts checks a redemption's parts against its member's lots, and
// dates format 1 parts from their lots.
func (e *Engine) checkParts(v *recordValue, m *member) error {
	for k := range v.parts {
		p := &v.parts[k]
		if int(p.lot) >= int(m.lotBase)+len(m.lots()) {
			return fmt.Errorf("part %d: lot %d out of range", k, p.lot)
		}
		if v.undated {
			if int32(p.lot) < m.lotBase {
				return fmt.Errorf("part %d: lot %d was dropped and the value (format 1) keeps no expiry", k, p.lot)
			}
			p.expiresAtMS = m.lots()[int32(p.lot)-m.lotBase].expiresAtMS
		}
	}
	return nil
}

// install makes a checked value resident under id.
func (e *Engine) install(id []byte, v *recordValue) {
	r := v.row
	r.id = e.internID(id, r.typ)
	r.created, r.changed, r.ref, r.dirty = v.created, v.changed, -1, false
	switch detailOf(r.typ, r.err) {
	case detailPurchase:
		b := v.buy
		b.member, b.refunded, b.lastRefund = r.member, 0, -1
		for _, ev := range v.events {
			b.lastRefund = e.refunds.put(refundEvent{pos: ev.pos, after: ev.after, prev: b.lastRefund})
			b.refunded = ev.after
		}
		r.ref = e.buys.put(b)
	case detailRedemption:
		rd := v.redeem
		rd.member = r.member
		off := uint32(len(e.parts))
		e.parts = append(e.parts, v.parts...)
		r.ref = e.addRedemption(rd, off)
	case detailHold:
		r.ref = v.holdRef
	}
	ri := e.recs.put(r)
	e.ids.insert(id, ri)
	if e.res.storeBacked {
		e.res.order.push(ri)
	}
}
