package workload

import "strconv"

const msPerDay = 86_400_000

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's civil_from_days).
func civil(days int64) (y, m, d int64) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return
}

// tsCache remembers "YYYY-MM-DDTHH:MM:SS." of the last second formatted.
type tsCache struct {
	sec    int64
	prefix [20]byte
}

func put2(b []byte, v int64) { b[0], b[1] = byte('0'+v/10), byte('0'+v%10) }

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
	if sec != c.sec {
		day := sec / 86400
		rem := sec - day*86400
		y, m, d := civil(day)
		p := c.prefix[:]
		put2(p[0:], (y/100)%100)
		put2(p[2:], y%100)
		p[4] = '-'
		put2(p[5:], m)
		p[7] = '-'
		put2(p[8:], d)
		p[10] = 'T'
		put2(p[11:], rem/3600)
		p[13] = ':'
		put2(p[14:], (rem/60)%60)
		p[16] = ':'
		put2(p[17:], rem%60)
		p[19] = '.'
		c.sec = sec
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
