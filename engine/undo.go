package engine

// A catch-up that may be rolled back: see tryBring.

type lotUndo struct {
	idx int32 // absolute lot index
	old lot
}

// tryBring brings mi to t for a command that may still be rejected. A
// rejected command must change nothing, and when t is ahead of the clock a
// later command may run at an earlier time than t; so the catch-up is
// logged and rollback undoes it. (At t equal to the clock the catch-up is
// what any later command would do first, and is kept.)
func (e *Engine) tryBring(mi int32, t int64) {
	if t == e.clockMS || !e.emit {
		e.bring(mi, t)
		return
	}
	m := e.members.at(mi)
	e.undoing = true
	e.undoMember = *m
	e.undoLots = e.undoLots[:0]
	e.undoHolds = e.undoHolds[:0]
	e.undoHoldList = e.undoHoldList[:0]
	if m.ext != nil {
		e.undoHoldList = append(e.undoHoldList, m.ext.holds...)
	}
	e.undoOut = len(e.out)
	e.undoBreakage = e.breakage
	if m.ext != nil {
		e.undoExt = *m.ext
	}
	e.bring(mi, t)
}

// keep ends a tryBring whose command goes on.
func (e *Engine) keep() { e.undoing = false }

// rollback undoes the catch-up of the last tryBring.
func (e *Engine) rollback(mi int32) {
	if !e.undoing {
		return
	}
	m := e.members.at(mi)
	*m = e.undoMember
	for k := len(e.undoLots) - 1; k >= 0; k-- {
		// Indices are absolute; a lot revived during the catch-up went to
		// a new slice (lotFor), so it is not in the restored one.
		if u := e.undoLots[k]; u.idx >= m.lotBase {
			m.lots()[u.idx-m.lotBase] = u.old
		}
	}
	if m.ext != nil {
		// An ext that bring made is gone with the member's old value; one
		// it changed was there before: restore its values, then its holds'
		// elements (the slice is the same).
		*m.ext = e.undoExt
		m.ext.holds = append(m.ext.holds[:0], e.undoHoldList...)
	}
	for _, h := range e.undoHolds {
		e.holds.at(int32(h)).open = true
	}
	e.out = e.out[:e.undoOut]
	e.breakage = e.undoBreakage
	e.undoing = false
}
