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
type hashIndex struct {
	seed  maphash.Seed
	slots []uint64
	count int
}

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
		if s>>32 == tag {
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
	if (x.count+1)*4 > len(x.slots)*3 {
		x.grow(src)
	}
	x.put(x.hash(key), v)
	x.count++
}

func (x *hashIndex) put(h uint64, v int32) {
	mask := uint64(len(x.slots) - 1)
	i := h & mask
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = (h>>32)<<32 | uint64(uint32(v)+1)
}

// remove deletes the value v stored under key. Removal is a new member
// whose first command was rejected, or an evicted command record (at most
// one per command), so the rest of the probe cluster is simply put again
// from its keys.
func (x *hashIndex) remove(src keySource, key string, v int32) {
	mask := uint64(len(x.slots) - 1)
	h := maphash.String(x.seed, key)
	want := (h>>32)<<32 | uint64(uint32(v)+1)
	i := h & mask
	for x.slots[i] != want {
		if x.slots[i] == 0 {
			return
		}
		i = (i + 1) & mask
	}
	x.slots[i] = 0
	x.count--
	for j := (i + 1) & mask; x.slots[j] != 0; j = (j + 1) & mask {
		s := x.slots[j]
		x.slots[j] = 0
		w := int32(uint32(s) - 1)
		x.put(maphash.String(x.seed, src.keyOf(w)), w)
	}
}

func (x *hashIndex) grow(src keySource) {
	old := x.slots
	x.slots = make([]uint64, 2*len(old))
	for _, s := range old {
		if s == 0 {
			continue
		}
		v := int32(uint32(s) - 1)
		x.put(maphash.String(x.seed, src.keyOf(v)), v)
	}
}
