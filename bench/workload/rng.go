package workload

import "math/bits"

// rng is xoshiro256** seeded through splitmix64. It is a value type owned by
// one Generator: no global state, no locking, no allocation.
type rng struct{ s0, s1, s2, s3 uint64 }

func splitmix64(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func newRNG(seed uint64) rng {
	x := seed
	r := rng{splitmix64(&x), splitmix64(&x), splitmix64(&x), splitmix64(&x)}
	if r.s0|r.s1|r.s2|r.s3 == 0 { // unreachable with splitmix64, kept for safety
		r.s0 = 1
	}
	return r
}

func (r *rng) next() uint64 {
	res := bits.RotateLeft64(r.s1*5, 7) * 9
	t := r.s1 << 17
	r.s2 ^= r.s0
	r.s3 ^= r.s1
	r.s1 ^= r.s2
	r.s0 ^= r.s3
	r.s2 ^= t
	r.s3 = bits.RotateLeft64(r.s3, 45)
	return res
}

// intn returns a value in [0, n) for n >= 1 (Lemire's multiply-shift; the
// bias of at most n/2^64 is irrelevant for workload generation).
func (r *rng) intn(n uint64) uint64 {
	hi, _ := bits.Mul64(r.next(), n)
	return hi
}

// rangeIn returns a value in [lo, hi] (inclusive), lo <= hi.
func (r *rng) rangeIn(lo, hi int64) int64 {
	return lo + int64(r.intn(uint64(hi-lo)+1))
}

// chance reports true with probability p/65536.
func (r *rng) chance(p uint32) bool {
	return uint32(r.next()>>48) < p
}
