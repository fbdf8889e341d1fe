package workload

import (
	"math"
	"math/bits"
)

// alias is Vose's alias table: O(1) sampling of a discrete distribution with
// one random number. prob is scaled to 2^32; entries that always keep their
// own index have alias[i] == i.
type alias struct {
	prob  []uint32
	alias []uint32
}

func newAlias(w []float64) alias {
	n := len(w)
	a := alias{prob: make([]uint32, n), alias: make([]uint32, n)}
	var sum float64
	for _, x := range w {
		sum += x
	}
	p := make([]float64, n)
	small := make([]int, 0, n)
	large := make([]int, 0, n)
	for i, x := range w {
		p[i] = float64(x * float64(n) / sum)
		if p[i] < 1 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s := small[len(small)-1]
		small = small[:len(small)-1]
		l := large[len(large)-1]
		large = large[:len(large)-1]
		a.prob[s] = uint32(math.Floor(p[s] * 4294967296.0))
		a.alias[s] = uint32(l)
		p[l] = float64((p[l] + p[s]) - 1)
		if p[l] < 1 {
			small = append(small, l)
		} else {
			large = append(large, l)
		}
	}
	for _, i := range large {
		a.prob[i], a.alias[i] = math.MaxUint32, uint32(i)
	}
	for _, i := range small { // rounding leftovers
		a.prob[i], a.alias[i] = math.MaxUint32, uint32(i)
	}
	return a
}

func (a *alias) sample(r *rng) int {
	x := r.next()
	i := ((x >> 32) * uint64(len(a.prob))) >> 32
	if uint32(x) < a.prob[i] {
		return int(i)
	}
	return int(a.alias[i])
}

// zipf samples ranks 0..n-1 with P(k) ∝ (k+1)^-s. The first ranks are exact;
// beyond them ranks are grouped into geometrically growing buckets (width
// ≈ rank/64, so the probability varies by < 2% inside a bucket) chosen with an
// alias table, and the rank inside a bucket is uniform. A 35M-member table
// has ~1.7k buckets (a few tens of KB), sampling costs two random numbers.
type zipf struct {
	al    alias
	lo    []uint64
	width []uint64
}

func newZipf(n uint64, s float64) zipf {
	var z zipf
	var w []float64
	for r := uint64(0); r < n; {
		width := uint64(1)
		if r >= 1024 {
			width = r / 64
		}
		end := min(r+width, n)
		z.lo = append(z.lo, r)
		z.width = append(z.width, end-r)
		w = append(w, zipfMass(r+1, end, s))
		r = end
	}
	z.al = newAlias(w)
	return z
}

// zipfMass ≈ sum_{k=a}^{b} k^-s (exact for short ranges, else the integral
// over [a-1/2, b+1/2], which is accurate to well under 1% for k >= 1024).
func zipfMass(a, b uint64, s float64) float64 {
	if b-a < 16 {
		var m float64
		for k := a; k <= b; k++ {
			m += math.Pow(float64(k), -s)
		}
		return m
	}
	lo, hi := float64(a)-0.5, float64(b)+0.5
	if s == 1 {
		return math.Log(hi / lo)
	}
	return float64((math.Pow(hi, 1-s) - math.Pow(lo, 1-s)) / (1 - s))
}

func (z *zipf) sample(r *rng) uint64 {
	b := z.al.sample(r)
	if w := z.width[b]; w > 1 {
		return z.lo[b] + r.intn(w)
	}
	return z.lo[b]
}

// perm is a bijection of [0, n): k -> (k*a + b) mod n with gcd(a, n) = 1, so
// the most active ranks are spread over the id space instead of being the
// smallest ids.
type perm struct{ a, b, n uint64 }

func newPerm(r *rng, n uint64) perm {
	if n <= 1 {
		return perm{1, 0, 1}
	}
	for {
		a := 1 + r.intn(n-1)
		if gcd(a, n) == 1 {
			return perm{a, r.intn(n), n}
		}
	}
}

func (p perm) apply(k uint64) uint64 {
	hi, lo := bits.Mul64(k, p.a)
	_, rem := bits.Div64(hi%p.n, lo, p.n)
	rem += p.b
	if rem >= p.n {
		rem -= p.n
	}
	return rem
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// lognormal is a quantile table of a log-normal distribution, interpolated
// linearly between 4096 quantiles; values are clamped to [lo, hi].
type lognormal struct {
	q [4097]int64
}

func newLognormal(median, sigma float64, lo, hi int64) *lognormal {
	t := new(lognormal)
	const eps = 1.0 / (1 << 20)
	for k := range t.q {
		p := float64(k) / 4096
		p = max(eps, min(1-eps, p))
		z := math.Sqrt2 * math.Erfinv(2*p-1)
		v := math.Round(median * math.Exp(sigma*z))
		x := int64(hi)
		if v < float64(hi) {
			x = int64(v)
		}
		t.q[k] = max(lo, min(hi, x))
	}
	return t
}

func (t *lognormal) sample(r *rng) int64 {
	x := r.next()
	i := x >> 52
	frac := int64((x >> 36) & 0xffff)
	a, b := t.q[i], t.q[i+1]
	return a + ((b-a)*frac)>>16
}
