package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A record's stored value: what AppendDirty hands over and LoadRecord reads
// back. The first byte is the format, and a format number is never reused
// for another layout (like raft/codec's). Format 1, integers as varints
// (u unsigned, i signed):
//
//	u created position, u payload hash, u type, u error, u tier, i member,
//	i points, i available, i pending, i held (the first result), then for
//	an accepted record:
//	purchase:        i amount, i points, i partner, i lot (-1 none),
//	                 u n, n × (u position, i refunded after), oldest first
//	redeem, capture: i points, i partner, u n, n × (u lot, i points),
//	                 u cancelled (0 or 1), then u its position if 1
//	claim:           as redeem, then i the reward's index (claims came
//	                 after format 1, so no older value has this type)
//	hold:            i index into the holds table (holds stay resident)
//
// Format 2 (written since members drop lots, lots.go) is format 1 with each
// part's lot expiry after its points (i expires_at): a cancellation may
// give points back to a lot the member has dropped. A format 1 part takes
// its expiry from its lot, which an engine that reads format 1 values
// keeps (Engine.keepLots).
//
// Members are never removed, and lot indices are absolute, so member, lot
// and hold indices are stable. The positions are what LoadRecord's as-of
// rule reads.
const (
	recordFormat1 = 1
	recordFormat2 = 2
)

// ErrBadRecord is the error of a stored record value that does not decode,
// or that refers outside the engine's state: a corrupt store.
var ErrBadRecord = errors.New("engine: bad stored record value")

// detail is which details a record keeps besides its result.
type detail uint8

const (
	detailNone detail = iota
	detailPurchase
	detailRedemption
	detailHold
)

func detailOf(typ CommandType, err ErrorCode) detail {
	if err != OK {
		return detailNone
	}
	switch typ {
	case TypePurchase:
		return detailPurchase
	case TypeRedeem, TypeCapture, TypeClaim:
		return detailRedemption
	case TypeHold:
		return detailHold
	}
	return detailNone
}

// recordValue is a stored value decoded: the record row (id, ref and the
// stamps aside), and the details its type keeps.
type recordValue struct {
	created     uint64
	changed     uint64 // set by asOf
	row         record
	buy         purchaseRec   // amount, points, partner, lot
	events      []refundEvent // oldest first; prev unused
	redeem      redemptionRec // points, partner, cancelled, a claim's reward
	cancelledAt uint64
	parts       []part
	undated     bool // format 1: the parts' expiries are to be read from their lots
	holdRef     int32
}

// appendRecordValue encodes resident record ri.
func (e *Engine) appendRecordValue(dst []byte, ri int32) []byte {
	r := e.recs.at(ri)
	dst = append(dst, recordFormat2)
	for _, u := range [...]uint64{r.created, r.hash, uint64(r.typ), uint64(r.err), uint64(r.tier)} {
		dst = binary.AppendUvarint(dst, u)
	}
	for _, i := range [...]int64{int64(r.member), r.points, r.available, r.pending, r.held} {
		dst = binary.AppendVarint(dst, i)
	}
	switch detailOf(r.typ, r.err) {
	case detailPurchase:
		b := e.buys.at(r.ref)
		for _, i := range [...]int64{b.amount, b.points, int64(b.partner), int64(b.lot)} {
			dst = binary.AppendVarint(dst, i)
		}
		n := 0
		for ev := b.lastRefund; ev >= 0; ev = e.refunds.at(ev).prev {
			n++
		}
		dst = binary.AppendUvarint(dst, uint64(n))
		dst = e.appendRefunds(dst, b.lastRefund)
	case detailRedemption:
		rd := e.redeems.at(r.ref)
		dst = binary.AppendVarint(dst, rd.points)
		dst = binary.AppendVarint(dst, int64(rd.partner))
		ps := e.redemptionParts(r.ref)
		dst = binary.AppendUvarint(dst, uint64(len(ps)))
		for _, p := range ps {
			dst = binary.AppendUvarint(dst, uint64(p.lot))
			dst = binary.AppendVarint(dst, p.points)
			dst = binary.AppendVarint(dst, p.expiresAtMS)
		}
		dst = binary.AppendUvarint(dst, uint64(boolInt(rd.cancelled)))
		if rd.cancelled {
			dst = binary.AppendUvarint(dst, r.changed) // a cancel is a redemption's only change
		}
		if r.typ == TypeClaim {
			dst = binary.AppendVarint(dst, int64(rd.reward))
		}
	case detailHold:
		dst = binary.AppendVarint(dst, int64(r.ref))
	}
	return dst
}

// appendRefunds appends the refund events up to ev, oldest first. A
// purchase is refunded a few times at most, so the recursion stays shallow.
func (e *Engine) appendRefunds(dst []byte, ev int32) []byte {
	if ev < 0 {
		return dst
	}
	x := e.refunds.at(ev)
	dst = e.appendRefunds(dst, x.prev)
	dst = binary.AppendUvarint(dst, x.pos)
	return binary.AppendVarint(dst, x.after)
}

// valueReader reads a value's varints, keeping the first failure.
type valueReader struct {
	b   []byte
	err error
}

func (r *valueReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *valueReader) u(what string) uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("%s: truncated or overlong varint", what)
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *valueReader) i(what string) int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("%s: truncated or overlong varint", what)
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

// i32 reads a signed varint that must lie in [lo, 2^31).
func (r *valueReader) i32(what string, lo int64) int32 {
	v := r.i(what)
	if v < lo || v > 1<<31-1 {
		r.fail("%s %d out of range", what, v)
		return 0
	}
	return int32(v)
}

// count reads a table length, bounded by the bytes left (each row takes at
// least minBytes), so a corrupt value cannot make the decoder allocate.
func (r *valueReader) count(what string, minBytes int) int {
	n := r.u(what)
	if n > uint64(len(r.b)/minBytes) {
		r.fail("%s %d exceeds the value's length", what, n)
		return 0
	}
	return int(n)
}

// decodeRecordValue decodes b into v, reusing v's slices. It checks what
// needs no engine state; checkRecordValue checks the rest.
func decodeRecordValue(b []byte, v *recordValue) error {
	if len(b) == 0 {
		return errors.New("empty value")
	}
	if b[0] != recordFormat1 && b[0] != recordFormat2 {
		return fmt.Errorf("unknown format %d", b[0])
	}
	r := &valueReader{b: b[1:]}
	*v = recordValue{events: v.events[:0], parts: v.parts[:0], holdRef: -1, undated: b[0] == recordFormat1}
	v.created = r.u("created position")
	row := &v.row
	row.hash = r.u("hash")
	typ, code, tier := r.u("type"), r.u("error"), r.u("tier")
	if typ >= uint64(typeCount) || typ == uint64(TypeNone) || typ == uint64(TypeTick) || typ == uint64(TypeQuote) {
		r.fail("type %d is not a command that keeps a record", typ)
	}
	if code >= uint64(errorCount) || tier > 255 {
		r.fail("error %d or tier %d out of range", code, tier)
	}
	row.typ, row.err, row.tier = CommandType(typ), ErrorCode(code), uint8(tier)
	row.member = r.i32("member", -1)
	row.points, row.available, row.pending, row.held = r.i("points"), r.i("available"), r.i("pending"), r.i("held")
	if r.err == nil {
		switch detailOf(row.typ, row.err) {
		case detailPurchase:
			v.decodePurchase(r)
		case detailRedemption:
			v.decodeRedemption(r)
			if row.typ == TypeClaim {
				v.redeem.reward = r.i32("reward", 0)
			}
		case detailHold:
			v.holdRef = r.i32("hold", 0)
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d bytes after the record", len(r.b))
	}
	return r.err
}

func (v *recordValue) decodePurchase(r *valueReader) {
	b := &v.buy
	b.amount, b.points = r.i("amount"), r.i("purchase points")
	b.partner, b.lot = r.i32("partner", 0), r.i32("lot", -1)
	pos, after := v.created, int64(0)
	for k, n := 0, r.count("refund count", 2); k < n && r.err == nil; k++ {
		ev := refundEvent{pos: r.u("refund position"), after: r.i("refunded"), prev: -1}
		if ev.pos < pos || ev.after <= after || ev.after > b.amount {
			r.fail("refund %d out of order or beyond the amount", k)
		}
		pos, after = ev.pos, ev.after
		v.events = append(v.events, ev)
	}
}

func (v *recordValue) decodeRedemption(r *valueReader) {
	d := &v.redeem
	d.points, d.partner = r.i("redemption points"), r.i32("partner", 0)
	for k, n := 0, r.count("part count", 2); k < n && r.err == nil; k++ {
		lot := r.u("part lot")
		if lot > 1<<31-1 {
			r.fail("part %d: lot %d out of range", k, lot)
		}
		p := part{lot: uint32(lot), points: r.i("part points")}
		if !v.undated {
			p.expiresAtMS = r.i("part expiry")
		}
		v.parts = append(v.parts, p)
	}
	switch c := r.u("cancelled"); c {
	case 0:
	case 1:
		d.cancelled = true
		if v.cancelledAt = r.u("cancel position"); v.cancelledAt < v.created {
			r.fail("cancelled before it was made")
		}
	default:
		r.fail("cancelled flag %d", c)
	}
}

// asOf drops what was written at positions >= before (see LoadRecord) and
// sets v.changed to the last position that remains.
func (v *recordValue) asOf(before uint64) {
	v.changed = v.created
	n := 0
	for n < len(v.events) && v.events[n].pos < before {
		v.changed = v.events[n].pos
		n++
	}
	v.events = v.events[:n]
	if v.redeem.cancelled {
		if v.cancelledAt >= before {
			v.redeem.cancelled = false
		} else {
			v.changed = v.cancelledAt
		}
	}
}
