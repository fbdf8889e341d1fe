package engine

import "unsafe"

// Look-ahead: while Apply runs command i, it prefetches the memory that
// commands i+2 … i+8 will read, so that their cache misses overlap the
// work of the commands before them instead of stalling one at a time. A
// command's look-ups are a chain of misses (the index slot, then the
// member row it names, then the member's id bytes, lots and due-queue
// entry), each waiting for the one before; Apply spent a third of its
// time in them. The chain is walked in three stages a few commands apart:
// the slots of command i+aheadSlots, the member row of i+aheadRow (its
// slot is in cache by then), the rest of i+aheadState (its row is).
//
// It only reads and prefetches (prefetch_amd64.s), and neither changes
// anything: a command that creates a member or rebuilds an index before
// the command warmed runs merely makes the warming useless. Outcomes never
// depend on it.
const (
	aheadSlots = 8
	aheadRow   = 4
	aheadState = 2
	aheadRing  = 16 // > aheadSlots − aheadState: a hash lives from stage 1 to stage 3
)

// lookAhead keeps the member-id hashes between the stages.
type lookAhead struct {
	hash [aheadRing]uint64
	off  bool // set only by a benchmark that compares with and without
}

// warm runs the look-ahead stages due before command i of cmds (i may be
// negative: Apply starts the stages before its first command).
func (e *Engine) warm(cmds []Command, i int) {
	if j := i + aheadSlots; j >= 0 && j < len(cmds) {
		e.warmSlots(&cmds[j], j)
	}
	if j := i + aheadRow; j >= 0 && j < len(cmds) {
		if mi := e.warmMemberIndex(j); mi >= 0 {
			m := e.members.at(mi) // 80 bytes: both of its cache lines
			prefetch(unsafe.Pointer(m))
			prefetch(unsafe.Pointer(&m.nameHi))
		}
	}
	if j := i + aheadState; j >= 0 && j < len(cmds) {
		if mi := e.warmMemberIndex(j); mi >= 0 {
			e.warmState(e.members.at(mi), mi)
		}
	}
}

// warmSlots prefetches the index slots of c's id and member id, and keeps
// the member id's hash for the later stages (0: no member id).
func (e *Engine) warmSlots(c *Command, j int) {
	if len(c.ID) > 0 {
		prefetch(unsafe.Pointer(&e.ids.slots[e.ids.hash(c.ID)>>e.ids.shift]))
	}
	h := uint64(0)
	if len(c.Member) > 0 {
		h = e.byName.hash(c.Member)
		prefetch(unsafe.Pointer(&e.byName.slots[h>>e.byName.shift]))
	}
	e.ahead.hash[j%aheadRing] = h
}

// warmMemberIndex returns the member that the first slot with command j's
// member-id tag names (maybe another member: a guess is enough), or -1.
func (e *Engine) warmMemberIndex(j int) int32 {
	h := e.ahead.hash[j%aheadRing]
	if h == 0 {
		return -1
	}
	x := &e.byName
	mask := uint64(len(x.slots) - 1)
	for i, probes := h>>x.shift, 0; probes < 8; i, probes = (i+1)&mask, probes+1 {
		s := x.slots[i]
		if s == 0 {
			return -1
		}
		if s>>32 == h>>32 && s != tombstone {
			if v := int32(uint32(s) - 1); int(v) < e.members.len() {
				return v
			}
			return -1
		}
	}
	return -1
}

// warmState prefetches member mi's id bytes, its first pending lot (where
// maturation starts), its last lot (the one a purchase appends after) and
// its due-queue position.
func (e *Engine) warmState(m *member, mi int32) {
	r := m.nameRef()
	off := uint64(r.hi)<<32 | uint64(r.off)
	if c := off >> nameChunkBits; c < uint64(len(e.mnames.chunks)) {
		if b := e.mnames.chunks[c]; off&(nameChunk-1) < uint64(len(b)) {
			prefetch(unsafe.Pointer(&b[off&(nameChunk-1)]))
		}
	}
	if lots := m.lots(); len(lots) > 0 {
		prefetch(unsafe.Pointer(&lots[len(lots)-1]))
		if p := int(m.pendFrom); p < len(lots) {
			prefetch(unsafe.Pointer(&lots[p]))
		}
	}
	if int(mi) < len(e.due.pos) {
		prefetch(unsafe.Pointer(&e.due.pos[mi]))
	}
}
