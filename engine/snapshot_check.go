package engine

// What Restore does after reading a snapshot: checking its cross
// references, and dating the lot parts of a snapshot older than version 6.

import (
	"fmt"
	"math"
)

// check validates the cross references of a restored state, so that a
// corrupt snapshot fails here rather than panicking later.
func (e *Engine) check() error {
	nm := int32(e.members.len())
	bad := func(what string, i int) error {
		return fmt.Errorf("engine snapshot: %s %d refers outside the state", what, i)
	}
	for i := 0; i < e.recs.len(); i++ {
		r := e.recs.at(int32(i))
		if r.member >= nm || r.typ >= typeCount || r.err >= errorCount || int(r.tier) >= len(e.prog.Levels) {
			return bad("record", i)
		}
		if r.ref >= 0 && ((r.typ == TypePurchase && int(r.ref) >= e.buys.len()) ||
			(detailOf(r.typ, r.err) == detailRedemption && int(r.ref) >= e.redeems.len()) ||
			(r.typ == TypeHold && int(r.ref) >= e.holds.len())) {
			return bad("record", i)
		}
		if r.typ == TypeClaim && r.err == OK && r.ref >= 0 && int(e.redeems.at(r.ref).reward) >= len(e.claimed) {
			return bad("record", i)
		}
	}
	for i := 0; i < e.buys.len(); i++ {
		b := e.buys.at(int32(i))
		if b.member < 0 || b.member >= nm || int(b.partner) >= len(e.prog.Partners) || b.partner < 0 ||
			(b.lot >= 0 && !e.members.at(b.member).hasLot(b.lot)) {
			return bad("purchase", i)
		}
	}
	checkParts := func(off, n uint32, mi int32) bool {
		if mi < 0 || mi >= nm || uint64(off)+uint64(n) > uint64(len(e.parts)) {
			return false
		}
		for _, p := range e.parts[off : off+n] {
			if p.lot > math.MaxInt32 || !e.members.at(mi).hasLot(int32(p.lot)) {
				return false
			}
		}
		return true
	}
	for i := 0; i < e.redeems.len(); i++ {
		r := e.redeems.at(int32(i))
		if !checkParts(r.partsOff, r.partsLen, r.member) || r.partner < 0 || int(r.partner) >= len(e.prog.Partners) {
			return bad("redemption", i)
		}
	}
	for i := 0; i < e.holds.len(); i++ {
		h := e.holds.at(int32(i))
		if !checkParts(h.partsOff, h.partsLen, h.member) || h.partner < 0 || int(h.partner) >= len(e.prog.Partners) {
			return bad("hold", i)
		}
	}
	if i, ok := e.checkMembers(); !ok {
		return bad("member", i)
	}
	return nil
}

// dateParts gives the parts of a snapshot older than version 6 their lots'
// expiries (such an engine keeps every lot).
func (e *Engine) dateParts() {
	date := func(off, n uint32, mi int32) {
		m := e.members.at(mi)
		for k := off; k < off+n; k++ {
			p := &e.parts[k]
			p.expiresAtMS = m.lots()[int32(p.lot)-m.lotBase].expiresAtMS
		}
	}
	for i := 0; i < e.redeems.len(); i++ {
		r := e.redeems.at(int32(i))
		date(r.partsOff, r.partsLen, r.member)
	}
	for i := 0; i < e.holds.len(); i++ {
		h := e.holds.at(int32(i))
		date(h.partsOff, h.partsLen, h.member)
	}
}

// checkMembers checks every member's lot positions, tier and §9 state; it
// returns the first bad member's index.
func (e *Engine) checkMembers() (int, bool) {
	nm := int32(e.members.len())
	for i := 0; i < e.members.len(); i++ {
		m := e.members.at(int32(i))
		if int(m.liveFrom) > len(m.lots()) || m.liveFrom < 0 || int(m.pendFrom) > len(m.lots()) || m.pendFrom < 0 || m.lotBase < 0 || int(m.carried) >= len(e.prog.Levels) {
			return i, false
		}
		if x := m.ext; x != nil {
			if int(x.plan) >= len(e.prog.Plans) || x.referrer >= nm || len(x.challenges) > len(e.prog.Challenges) || len(x.actions) > len(e.prog.Actions) ||
				(x.retail != nil && len(x.retail.offers) > len(e.prog.Offers)) {
				return i, false
			}
			for _, h := range x.holds {
				if int(h) >= e.holds.len() {
					return i, false
				}
			}
		}
	}
	return 0, true
}
