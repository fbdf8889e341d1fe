package engine

// Command records and where they live: all in memory (keep-all), or in a
// caller's store with a bounded window resident (store-backed). See doc.go
// for what a caller does around each Apply.

// Options chooses how an engine keeps its command records.
type Options struct {
	// StoreBacked keeps only a window of command records resident: the
	// caller loads the ones a batch needs before Apply (AppendMissing,
	// LoadRecord), persists the ones it changed after (AppendDirty), and
	// bounds the window (Evict). The engine's snapshot then holds no record,
	// so it is the same whatever the window. False (the default, and New)
	// keeps every record in memory and in the snapshot.
	StoreBacked bool
}

// residency is the bookkeeping of the command records.
type residency struct {
	storeBacked bool
	tracking    bool   // dirty records are listed: store-backed, or AppendDirty was called
	pos         uint64 // position of the current Apply (SetPosition)
	made        int    // records ever made, resident or not (Totals().Commands)
	dirty       []int32
	order       fifo  // store-backed: resident records, oldest resident first
	ids         arena // store-backed: ids of evictable records (chunks freed by the GC)
	enc         []byte
	val         recordValue // LoadRecord's scratch
}

// StoreBacked reports whether the engine keeps only a window of command
// records resident (Options.StoreBacked; a restored engine has its
// snapshot's mode).
func (e *Engine) StoreBacked() bool { return e.res.storeBacked }

// SetPosition sets the position of the next Apply: the Raft log index in
// the FSM, the count of commands read in offline replay. Records that Apply
// creates or changes are stamped with it, and the stamps are what
// LoadRecord's as-of rule and Evict's writtenThrough compare against, so
// positions must strictly increase across Applies that create or change
// records. A keep-all engine whose caller never persists records needs no
// position (it stays 0).
func (e *Engine) SetPosition(p uint64) { e.res.pos = p }

// newRecord makes the record of command c (resident, dirty) and indexes it.
func (e *Engine) newRecord(c *Command) int32 {
	ri := e.recs.put(record{id: e.internID(c.ID, c.Type), hash: c.Hash, typ: c.Type, ref: -1, member: -1,
		created: e.res.pos, changed: e.res.pos})
	e.ids.insert(c.ID, ri)
	e.res.made++
	e.markDirty(ri)
	if e.res.storeBacked {
		e.res.order.push(ri)
	}
	return ri
}

// internID stores a record's id for as long as the record is resident. A
// store-backed engine puts evictable ids in their own arena, whose chunks
// the GC frees once their records are gone (and their ledger entries
// written); an open hold's record is pinned, and holds stay resident, so
// hold ids go with the member names.
func (e *Engine) internID(id []byte, typ CommandType) string {
	if e.res.storeBacked && typ != TypeHold {
		return e.res.ids.str(id)
	}
	return e.names.str(id)
}

// changed stamps record ri as changed by the current Apply.
func (e *Engine) changed(ri int32) {
	e.recs.at(ri).changed = e.res.pos
	e.markDirty(ri)
}

func (e *Engine) markDirty(ri int32) {
	r := e.recs.at(ri)
	if e.res.tracking && !r.dirty {
		r.dirty = true
		e.res.dirty = append(e.res.dirty, ri)
	}
}

// noteRefund adds the refund just applied to purchase record oi's history.
func (e *Engine) noteRefund(oi int32, pr *purchaseRec) {
	pr.lastRefund = e.refunds.put(refundEvent{pos: e.res.pos, after: pr.refunded, prev: pr.lastRefund})
	e.changed(oi)
}

// addRedemption stores a redemption whose lot parts are e.parts[off:]. A
// keep-all engine leaves them there (its snapshot's layout); a store-backed
// one moves them to the row's own slice, whose capacity the row's next
// tenant reuses, so that e.parts keeps only the holds' parts.
func (e *Engine) addRedemption(rd redemptionRec, off uint32) int32 {
	if !e.res.storeBacked {
		rd.partsOff, rd.partsLen = off, uint32(len(e.parts))-off
		return e.redeems.put(rd)
	}
	di := e.redeems.put(rd)
	for e.rdParts.len() <= int(di) {
		e.rdParts.add(nil)
	}
	ps := e.rdParts.at(di)
	*ps = append((*ps)[:0], e.parts[off:]...)
	e.parts = e.parts[:off]
	return di
}

// redemptionParts returns the lot parts redemption row di took.
func (e *Engine) redemptionParts(di int32) []part {
	if e.res.storeBacked {
		return *e.rdParts.at(di)
	}
	rd := e.redeems.at(di)
	return e.parts[rd.partsOff : rd.partsOff+rd.partsLen]
}

// AppendMissing appends to dst the ids that Apply(cmds) may look up and
// that are not resident: each valid command's id (but a tick's or a
// quote's), and the original of a refund, cancel_redemption, capture or
// release. The ids are sub-slices of the commands' bytes, valid as long as
// they are. An id may appear more than once (no dedupe within a batch). A
// keep-all engine holds every record and returns dst unchanged.
func (e *Engine) AppendMissing(cmds []Command, dst [][]byte) [][]byte {
	if !e.res.storeBacked {
		return dst
	}
	for i := range cmds {
		c := &cmds[i]
		if c.Invalid || c.Type == TypeTick || c.Type == TypeQuote {
			continue
		}
		dst = e.appendIfMissing(dst, c.ID)
		switch c.Type {
		case TypeRefund, TypeCancelRedemption, TypeCapture, TypeRelease:
			dst = e.appendIfMissing(dst, c.Original)
		}
	}
	return dst
}

func (e *Engine) appendIfMissing(dst [][]byte, id []byte) [][]byte {
	if _, ok := e.ids.find(idKeys{e}, id); ok {
		return dst
	}
	return append(dst, id)
}

// AppendDirty calls fn with every record created or changed since the last
// call that returned nil, in the order they became dirty, each with its
// encoded value (the input of LoadRecord). value is the engine's scratch,
// valid only during the call; id stays valid. The caller writes them to its
// store in the same batch as the Apply's ledger entries. If fn fails,
// AppendDirty returns its error at once and every record stays dirty, so
// the next call hands them all over again.
//
// A keep-all engine lists dirty records only once AppendDirty has been
// called: its first call hands over every record it holds.
func (e *Engine) AppendDirty(fn func(id string, value []byte) error) error {
	if !e.res.tracking {
		for ri := int32(0); int(ri) < e.recs.len(); ri++ {
			if err := e.emitRecord(ri, fn); err != nil {
				return err
			}
		}
		e.res.tracking = true
		return nil
	}
	for _, ri := range e.res.dirty {
		if err := e.emitRecord(ri, fn); err != nil {
			return err
		}
	}
	for _, ri := range e.res.dirty {
		e.recs.at(ri).dirty = false
	}
	e.res.dirty = e.res.dirty[:0]
	return nil
}

func (e *Engine) emitRecord(ri int32, fn func(id string, value []byte) error) error {
	e.res.enc = e.appendRecordValue(e.res.enc[:0], ri)
	return fn(e.recs.at(ri).id, e.res.enc)
}

// Evict drops resident records beyond maxResident, oldest resident first,
// from a store-backed engine. It never drops a record that is dirty (not
// yet handed over by AppendDirty), stamped after writtenThrough (its store
// write may not be visible yet), or an open hold's (pinned: member state
// refers to it until it closes). Those go to the back of the queue, so
// more than maxResident remain only when they fill the window; each call
// looks at every resident record at most once. A keep-all engine, or
// maxResident <= 0, drops nothing. Evict must not run between LoadRecord
// and the Apply that needs the loaded records.
func (e *Engine) Evict(maxResident int, writtenThrough uint64) {
	if !e.res.storeBacked || maxResident <= 0 {
		return
	}
	q := &e.res.order
	for scan := q.len(); scan > 0 && e.recs.live() > maxResident; scan-- {
		ri := q.pop()
		if e.evictable(ri, writtenThrough) {
			e.drop(ri)
		} else {
			q.push(ri)
		}
	}
}

// Resident returns how many command records are in memory.
func (e *Engine) Resident() int { return e.recs.live() }

func (e *Engine) evictable(ri int32, writtenThrough uint64) bool {
	r := e.recs.at(ri)
	if r.dirty || r.changed > writtenThrough {
		return false
	}
	return !(r.typ == TypeHold && r.err == OK && e.holds.at(r.ref).open)
}

// drop removes resident record ri and its details.
func (e *Engine) drop(ri int32) {
	r := e.recs.at(ri)
	e.ids.remove(r.id, ri)
	switch detailOf(r.typ, r.err) {
	case detailPurchase:
		for ev := e.buys.at(r.ref).lastRefund; ev >= 0; {
			prev := e.refunds.at(ev).prev
			e.refunds.release(ev)
			ev = prev
		}
		e.buys.release(r.ref)
	case detailRedemption:
		ps := e.rdParts.at(r.ref)
		*ps = (*ps)[:0]
		e.redeems.release(r.ref)
	}
	e.recs.release(ri)
}
