package workload

import (
	"strconv"

	"github.com/accrual/accrual/engine"
)

const msPerDay = 86_400_000

// tsCache remembers "YYYY-MM-DDTHH:MM:SS." of the last second formatted.
type tsCache struct {
	sec    int64
	prefix [20]byte
	filled bool // prefix holds sec (sec 0 is a valid second)
}

// grow extends dst by n bytes (allocating only when the capacity is short).
func grow(dst []byte, n int) []byte {
	if l := len(dst); cap(dst)-l >= n {
		return dst[:l+n]
	}
	return append(dst, make([]byte, n)...)
}

// appendTS appends ms (Unix milliseconds, >= 0) as RFC 3339 UTC with
// milliseconds: 2026-01-01T00:00:00.000Z.
func (c *tsCache) appendTS(dst []byte, ms int64) []byte {
	sec := ms / 1000
	if sec != c.sec || !c.filled {
		var buf [24]byte
		copy(c.prefix[:], engine.AppendTime(buf[:0], sec*1000))
		c.sec, c.filled = sec, true
	}
	l := len(dst)
	dst = grow(dst, 24)
	b := dst[l : l+24]
	copy(b, c.prefix[:])
	msec := ms - sec*1000
	b[20], b[21], b[22], b[23] = byte('0'+msec/100), byte('0'+(msec/10)%10), byte('0'+msec%10), 'Z'
	return dst
}

// appendPadded appends v in decimal, left-padded with zeros to width digits.
func appendPadded(dst []byte, v uint64, width int) []byte {
	n := max(digits(v), width)
	l := len(dst)
	dst = grow(dst, n)
	b := dst[l : l+n]
	for i := n - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return dst
}

func digits(v uint64) int {
	n := 1
	for ; v >= 10000; v /= 10000 {
		n += 4
	}
	for ; v >= 10; v /= 10 {
		n++
	}
	return n
}

func appendInt(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }
