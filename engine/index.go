package engine

import "hash/maphash"

// hashIndex maps byte keys to int32 values with open addressing. A slot is
// 8 bytes (a 32-bit hash tag and the value + 1), against ~40 bytes and two
// cache misses per probe for a map[string]int32 over tens of millions of
// keys. Keys themselves live elsewhere (arena strings), fetched only when a
// tag matches.
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
	count int // live keys
	tombs int // tombstones
}

// tombstone marks a removed slot. No live slot equals it: its value part
// would be value+1 = 2^32-1, and values are non-negative int32s.
const tombstone = ^uint64(0)

// keySource returns the key stored under a value.
type keySource interface{ keyOf(v int32) string }

const indexMinSlots = 1 << 10

func newHashIndex() hashIndex {
	return hashIndex{seed: maphash.MakeSeed(), slots: make([]uint64, indexMinSlots)}
}

func (x *hashIndex) hash(key []byte) uint64 { return maphash.Bytes(x.seed, key) }

// find returns the value stored under key.
func (x *hashIndex) find(src keySource, key []byte) (int32, bool) {
	h := x.hash(key)
	tag := h >> 32
	mask := uint64(len(x.slots) - 1)
	for i, probes := h&mask, 0; probes < len(x.slots); i, probes = (i+1)&mask, probes+1 {
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
func (x *hashIndex) insert(src keySource, key []byte, v int32) {
	if (x.count+x.tombs+1)*4 > len(x.slots)*3 {
		x.rebuild(src)
	}
	if x.put(x.hash(key), v) {
		x.tombs--
	}
	x.count++
}

// put stores v in the first free slot of h's probe run, and reports
// whether that slot held a tombstone.
func (x *hashIndex) put(h uint64, v int32) (reused bool) {
	mask := uint64(len(x.slots) - 1)
	i := h & mask
	for x.slots[i] != 0 && x.slots[i] != tombstone {
		i = (i + 1) & mask
	}
	reused = x.slots[i] == tombstone
	x.slots[i] = (h>>32)<<32 | uint64(uint32(v)+1)
	return reused
}

// remove deletes the value v stored under key (a new member whose first
// command was rejected, or an evicted command record), leaving a tombstone.
func (x *hashIndex) remove(key string, v int32) {
	mask := uint64(len(x.slots) - 1)
	h := maphash.String(x.seed, key)
	want := (h>>32)<<32 | uint64(uint32(v)+1)
	i := h & mask
	for probes := 0; x.slots[i] != want; i, probes = (i+1)&mask, probes+1 {
		if x.slots[i] == 0 || probes == len(x.slots) {
			return
		}
	}
	x.slots[i] = tombstone
	x.count--
	x.tombs++
}

// rebuild re-puts the live keys without tombstones: into a table twice as
// large when they alone fill half of it, else into one of the same size.
func (x *hashIndex) rebuild(src keySource) {
	old := x.slots
	size := len(old)
	if x.count*2 >= size {
		size *= 2
	}
	x.slots = make([]uint64, size)
	x.tombs = 0
	for _, s := range old {
		if s == 0 || s == tombstone {
			continue
		}
		v := int32(uint32(s) - 1)
		x.put(maphash.String(x.seed, src.keyOf(v)), v)
	}
}
