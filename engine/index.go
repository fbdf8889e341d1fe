package engine

import (
	"hash/maphash"
	"math/bits"
)

// hashIndex maps byte keys to int32 values with open addressing. A slot is
// 8 bytes (a 32-bit hash tag and the value + 1), against ~40 bytes and two
// cache misses per probe for a map[string]int32 over tens of millions of
// keys. Keys themselves live elsewhere (arena strings), fetched only when a
// tag matches.
//
// A key's home slot is the top bits of its tag, so that a rebuild reads
// only the slots, never a key: re-hashing every key cost a cache miss each
// (about a sixth of Apply in a run whose command ids doubled the table).
// Doubling sends home h to 2h or 2h+1, so a rebuild streams through both
// tables in order. The price: keys with the same home share those bits of
// the tag, so between them a tag tells 32 − log2(slots) bits apart (a
// needless key compare in 1 of 512 same-home probes at 8M slots), and keys
// with different homes always differ in the tag.
//
// The hash seed is random per process; that changes only where keys sit in
// the table, never an outcome, and the table is never iterated.
//
// A removed key leaves a tombstone, so that removal costs one probe run and
// no re-hashing: a store-backed engine removes one command record per
// command it applies (eviction). Inserts reuse tombstones; when live keys
// and tombstones together fill the table, it is rebuilt without them.
type hashIndex struct {
	seed  maphash.Seed
	slots []uint64
	shift uint8 // 64 − log2(len(slots)): a slot's or a hash's home is x >> shift
	count int   // live keys
	tombs int   // tombstones
}

// tombstone marks a removed slot. No live slot equals it: its value part
// would be value+1 = 2^32-1, and values are non-negative int32s.
const tombstone = ^uint64(0)

// keySource returns the key stored under a value.
type keySource interface{ keyOf(v int32) string }

const indexMinSlots = 1 << 10

func newHashIndex() hashIndex {
	x := hashIndex{seed: maphash.MakeSeed()}
	x.setSlots(indexMinSlots)
	return x
}

// setSlots replaces the table with an empty one of n slots, a power of 2.
func (x *hashIndex) setSlots(n int) {
	x.slots = make([]uint64, n)
	x.shift = uint8(64 - bits.TrailingZeros(uint(n)))
}

func (x *hashIndex) hash(key []byte) uint64 { return maphash.Bytes(x.seed, key) }

// find returns the value stored under key.
func (x *hashIndex) find(src keySource, key []byte) (int32, bool) {
	h := x.hash(key)
	tag := h >> 32
	mask := uint64(len(x.slots) - 1)
	for i, probes := h>>x.shift, 0; probes < len(x.slots); i, probes = (i+1)&mask, probes+1 {
		s := x.slots[i]
		if s == 0 {
			return -1, false
		}
		if s>>32 == tag && s != tombstone {
			v := int32(uint32(s) - 1)
			if src.keyOf(v) == string(key) {
				return v, true
			}
		}
	}
	return -1, false
}

// insert stores v under key, which must not be present.
func (x *hashIndex) insert(key []byte, v int32) {
	if (x.count+x.tombs+1)*4 > len(x.slots)*3 {
		x.rebuild()
	}
	if x.put(x.hash(key), v) {
		x.tombs--
	}
	x.count++
}

// put stores v in the first free slot of h's probe run, and reports
// whether that slot held a tombstone.
func (x *hashIndex) put(h uint64, v int32) (reused bool) {
	return x.putSlot((h>>32)<<32 | uint64(uint32(v)+1))
}

// putSlot stores slot value s (tag and value + 1) in the first free slot
// of its home's probe run, and reports whether that slot held a tombstone.
func (x *hashIndex) putSlot(s uint64) (reused bool) {
	mask := uint64(len(x.slots) - 1)
	i := s >> x.shift
	for x.slots[i] != 0 && x.slots[i] != tombstone {
		i = (i + 1) & mask
	}
	reused = x.slots[i] == tombstone
	x.slots[i] = s
	return reused
}

// remove deletes the value v stored under key (a new member whose first
// command was rejected, or an evicted command record), leaving a tombstone.
func (x *hashIndex) remove(key string, v int32) {
	mask := uint64(len(x.slots) - 1)
	h := maphash.String(x.seed, key)
	want := (h>>32)<<32 | uint64(uint32(v)+1)
	i := h >> x.shift
	for probes := 0; x.slots[i] != want; i, probes = (i+1)&mask, probes+1 {
		if x.slots[i] == 0 || probes == len(x.slots) {
			return
		}
	}
	x.slots[i] = tombstone
	x.count--
	x.tombs++
}

// rebuild re-puts the live slots without tombstones: into a table twice
// as large when they alone fill half of it, else into one of the same size.
// A slot's home comes from its tag, so no key is read.
func (x *hashIndex) rebuild() {
	old := x.slots
	size := len(old)
	if x.count*2 >= size {
		size *= 2
	}
	x.setSlots(size)
	x.tombs = 0
	for _, s := range old {
		if s != 0 && s != tombstone {
			x.putSlot(s)
		}
	}
}
