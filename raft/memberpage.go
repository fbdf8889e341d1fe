package raft

import (
	"context"
	"sync"

	"github.com/accrual/accrual/engine"
)

// memberIDChunk is how many member ids one hold of the apply lock reads
// into the order: the same bound as a batch's view sweep after a program
// change (viewSweep), so the first page of a node with millions of members
// stalls applies no longer at a time than that sweep does.
const memberIDChunk = viewSweep

// memberPager is Node.MemberPage's state: the id order and how much of the
// engine it has read.
type memberPager struct {
	mu      sync.Mutex     // one page at a time (pages are operator reads)
	eng     *engine.Engine // the engine the ids were read from (a snapshot install replaces it)
	indexed int32          // members [0, indexed) of eng are in order
	order   memberOrder
	ids     []string // scratch
}

// forget drops the order and the engine it was read from (Restore, before
// it decodes a new engine): the next page reads the ids again.
func (p *memberPager) forget() {
	p.eng, p.indexed, p.order, p.ids = nil, 0, memberOrder{}, nil
}

// MemberPage returns up to limit members with ids greater than after (""
// from the first), in id byte order, as of one applied index, which it
// returns too; more tells whether members follow the page. Consistency c
// is as for Member.
//
// Why under the apply lock and not over the published views: a page must
// be one state (every view at the same applied index), and a published
// view can lag the clock (what falls due reaches it with the next tick, see
// refreshViews), while an export must equal `accrual replay --dump`. So a
// page's views are computed from the engine, at its clock, in one hold of
// the apply lock that costs O(limit·log n): a seek in the id order (see
// memberOrder) and limit views. Reading the ids of new members into the
// order costs O(log n) each, amortized, done in bounded holds before.
// Each page is consistent; an export of many pages under writes is not one
// snapshot (a member created behind the cursor is missed).
func (n *Node) MemberPage(ctx context.Context, after string, limit int, c Consistency) (views []engine.MemberView, applied uint64, more bool, err error) {
	if _, err := n.ReadIndex(ctx, c); err != nil {
		return nil, 0, false, err
	}
	p, f := &n.pager, n.fsm
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		p.catchUp(f)
		f.mu.Lock()
		if f.eng != p.eng { // a snapshot was installed meanwhile: read it first
			f.mu.Unlock()
			continue
		}
		p.readIDs(f.eng, -1) // the members created since catchUp: a few
		p.ids = p.order.after(p.ids[:0], after, limit+1)
		page := p.ids[:min(limit, len(p.ids))]
		views = make([]engine.MemberView, 0, len(page))
		for _, id := range page {
			v, _ := f.eng.Member(id, false)
			views = append(views, v)
		}
		applied = f.applied.Load()
		f.mu.Unlock()
		return views, applied, len(p.ids) > limit, nil
	}
}

// catchUp reads the ids of the members created since the last page into
// the order, memberIDChunk at a time under the apply lock, then compacts
// the order outside it.
func (p *memberPager) catchUp(f *fsm) {
	for done := false; !done; {
		f.mu.Lock()
		done = p.readIDs(f.eng, memberIDChunk)
		f.mu.Unlock()
	}
	p.order.compact()
}

// readIDs (apply lock held) adds the ids of up to max (< 0: all) members
// of e not yet in the order; true when none is left.
func (p *memberPager) readIDs(e *engine.Engine, max int) bool {
	if e != p.eng {
		p.eng, p.indexed, p.order = e, 0, memberOrder{}
	}
	total := int32(e.Members())
	end := total
	if max >= 0 {
		end = min(total, p.indexed+int32(max))
	}
	ids := make([]string, 0, end-p.indexed)
	for mi := p.indexed; mi < end; mi++ {
		ids = append(ids, e.View(mi, false).Member)
	}
	p.order.add(ids)
	p.indexed = end
	return end == total
}
