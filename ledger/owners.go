package ledger

import (
	"bytes"
	"hash/maphash"
	"unsafe"
)

// ownerCache interns owners (a namespace byte, then the name) in both
// directions and keeps each member's running balances, without a pointer
// per owner: a coalition's ledger holds tens of millions of members, and a
// map of strings or of *memberState costs about 100 B an owner and a
// garbage collector that scans every one of them. Names live in chunks of
// one arena; owner ids are dense, so the reverse direction and the balances
// are chunked tables indexed by id (chunked, so that growing them copies
// nothing and a *memberState stays valid). About 30 B an owner plus its
// name, and 40 B a member for the balances.
type ownerCache struct {
	maxOwners int
	seed      maphash.Seed
	byHash    map[uint64]uint32 // maphash of the name → owner id
	collided  map[string]uint32 // names whose hash an earlier name holds (rare)
	arena     [][]byte          // name chunks of arenaChunkBytes
	spans     [][]uint64        // by owner id: arena offset << 16 | length; 0 when not cached
	balances  [][]memberState   // by owner id
}

const (
	arenaChunkBytes = 1 << 20
	tableChunkShift = 16 // owners per table chunk: 1 << tableChunkShift
	maxNameBytes    = 1<<16 - 1
)

func newOwnerCache(maxOwners int) *ownerCache {
	return &ownerCache{maxOwners: maxOwners, seed: maphash.MakeSeed(), byHash: make(map[uint64]uint32)}
}

// count is the number of owners cached by name.
func (c *ownerCache) count() int { return len(c.byHash) + len(c.collided) }

// id returns the owner id cached for nsName.
func (c *ownerCache) id(nsName []byte) (uint32, bool) {
	if id, ok := c.byHash[maphash.Bytes(c.seed, nsName)]; ok {
		if n, cached := c.name(id); cached && bytes.Equal(n, nsName) {
			return id, true
		}
	}
	id, ok := c.collided[string(nsName)]
	return id, ok
}

// name returns the cached name of an owner id (namespace byte first).
func (c *ownerCache) name(id uint32) ([]byte, bool) {
	chunk, slot := id>>tableChunkShift, id&(1<<tableChunkShift-1)
	if int(chunk) >= len(c.spans) || c.spans[chunk][slot] == 0 {
		return nil, false
	}
	span := c.spans[chunk][slot]
	off, n := span>>16, span&maxNameBytes
	return c.arena[off/arenaChunkBytes][off%arenaChunkBytes:][:n], true
}

// nameString is name as a string that shares the arena's bytes: a chunk
// is never written again where it holds a name, nor moved.
func (c *ownerCache) nameString(id uint32) (string, bool) {
	b, ok := c.name(id)
	if !ok {
		return "", false
	}
	return unsafe.String(&b[0], len(b)), true
}

// add caches an owner; it reports false when the cache is full (then the
// caller can no longer treat a miss as a new owner).
func (c *ownerCache) add(nsName string, id uint32) bool {
	if _, ok := c.name(id); ok {
		return true
	}
	if c.count() >= c.maxOwners || len(nsName) == 0 || len(nsName) > maxNameBytes {
		return false
	}
	off := c.appendName(nsName)
	chunk, slot := id>>tableChunkShift, id&(1<<tableChunkShift-1)
	for int(chunk) >= len(c.spans) {
		c.spans = append(c.spans, make([]uint64, 1<<tableChunkShift))
	}
	c.spans[chunk][slot] = off<<16 | uint64(len(nsName))
	h := maphash.String(c.seed, nsName)
	if _, taken := c.byHash[h]; !taken {
		c.byHash[h] = id
		return true
	}
	if c.collided == nil {
		c.collided = make(map[string]uint32)
	}
	c.collided[nsName] = id
	return true
}

// appendName copies a name into the arena (never across two chunks) and
// returns its offset.
func (c *ownerCache) appendName(nsName string) uint64 {
	last := len(c.arena) - 1
	if last < 0 || len(c.arena[last])+len(nsName) > arenaChunkBytes {
		c.arena = append(c.arena, make([]byte, 0, arenaChunkBytes))
		last++
	}
	off := uint64(last)*arenaChunkBytes + uint64(len(c.arena[last]))
	c.arena[last] = append(c.arena[last], nsName...)
	return off
}

// balance returns the running-balance slot of an owner id; the pointer
// stays valid for the cache's life.
func (c *ownerCache) balance(id uint32) *memberState {
	chunk, slot := id>>tableChunkShift, id&(1<<tableChunkShift-1)
	for int(chunk) >= len(c.balances) {
		c.balances = append(c.balances, make([]memberState, 1<<tableChunkShift))
	}
	return &c.balances[chunk][slot]
}
