package raft

import (
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/accrual/accrual/engine"
	"github.com/cespare/xxhash/v2"
)

const (
	viewShards     = 64 // name → index maps
	viewStripes    = 64 // locks over the figures, by member index
	viewChunkBits  = 12
	viewChunkViews = 1 << viewChunkBits
)

// viewStore holds the published member views: what reads see. It has its
// own locks, so reads never wait for the apply lock.
//
// A view is kept as the engine's ViewFigures (56 bytes, no pointers) at its
// member's dense index, in chunks of 4096; an id maps to its index once,
// when the member is first published. So a put of a known member is a
// copy into an array under a striped lock: no hash, no map insert, and a
// garbage collector that scans only the id map.
type viewStore struct {
	seed maphash.Seed
	cur  atomic.Pointer[viewTable]
}

// viewTable is one engine's published views; reset replaces it whole, so
// a reader holds the ids, indexes and program of one engine.
type viewTable struct {
	prog    atomic.Pointer[engine.Program] // names of the figures' indexes
	chunks  atomic.Pointer[[]*viewChunk]
	stripes [viewStripes]viewStripe
	ids     [viewShards]idShard
	named   []uint64 // writer only: bit mi set once mi's id is in ids
}

type viewChunk [viewChunkViews]engine.ViewFigures

type viewStripe struct {
	mu sync.RWMutex
	_  [40]byte // keep locks on separate cache lines
}

type idShard struct {
	mu sync.RWMutex
	m  map[string]int32 // member id → index
	_  [32]byte
}

func newViewStore(p *engine.Program) *viewStore {
	s := &viewStore{seed: maphash.MakeSeed()}
	s.reset(0, p)
	return s
}

// put publishes member mi's figures (id: its id, the engine's bytes).
// Called by the one writer, under the apply lock.
func (s *viewStore) put(mi int32, id string, f *engine.ViewFigures) {
	t := s.cur.Load()
	c := t.chunk(mi)
	st := &t.stripes[mi%viewStripes]
	st.mu.Lock()
	c[mi&(viewChunkViews-1)] = *f
	st.mu.Unlock()
	if w := int(mi >> 6); w >= len(t.named) || t.named[w]&(1<<(mi&63)) == 0 {
		s.name(t, mi, id) // after the figures: a reader that finds mi finds them
	}
}

// chunk returns the chunk of member mi, adding chunks up to it.
func (t *viewTable) chunk(mi int32) *viewChunk {
	cs := *t.chunks.Load()
	k := int(mi >> viewChunkBits)
	if k < len(cs) {
		return cs[k]
	}
	grown := make([]*viewChunk, k+1, max(k+1, 2*len(cs)))
	copy(grown, cs)
	for i := len(cs); i <= k; i++ {
		grown[i] = new(viewChunk)
	}
	t.chunks.Store(&grown)
	return grown[k]
}

func (s *viewStore) name(t *viewTable, mi int32, id string) {
	sh := &t.ids[maphash.String(s.seed, id)%viewShards]
	sh.mu.Lock()
	sh.m[id] = mi
	sh.mu.Unlock()
	w := int(mi >> 6)
	if w >= len(t.named) {
		t.named = append(t.named, make([]uint64, w+1-len(t.named))...)
	}
	t.named[w] |= 1 << (mi & 63)
}

// setProgram names the indexes of figures published from now on, and of
// those before (a program change keeps their names).
func (s *viewStore) setProgram(p *engine.Program) { s.cur.Load().prog.Store(p) }

func (s *viewStore) get(id string) (engine.MemberView, bool) {
	t := s.cur.Load()
	sh := &t.ids[maphash.String(s.seed, id)%viewShards]
	sh.mu.RLock()
	mi, ok := sh.m[id]
	sh.mu.RUnlock()
	if !ok {
		return engine.MemberView{}, false
	}
	c := (*t.chunks.Load())[mi>>viewChunkBits]
	st := &t.stripes[mi%viewStripes]
	st.mu.RLock()
	f := c[mi&(viewChunkViews-1)]
	st.mu.RUnlock()
	// The program after the figures: the one they were computed under or
	// a later one.
	return f.MemberView(id, t.prog.Load()), true
}

// reset empties the store for an engine of members members under program
// p, each id map sized for its part (a restore puts every member's view
// next: growing the maps from empty costs as much as the puts).
func (s *viewStore) reset(members int, p *engine.Program) {
	t := &viewTable{}
	t.prog.Store(p)
	chunks := make([]*viewChunk, 0, (members+viewChunkViews-1)/viewChunkViews)
	t.chunks.Store(&chunks)
	for i := range t.ids {
		t.ids[i].m = make(map[string]int32, members/viewShards+1)
	}
	t.named = make([]uint64, 0, (members+63)/64)
	s.cur.Store(t)
}

func newHash64() *xxhash.Digest { return xxhash.New() }
