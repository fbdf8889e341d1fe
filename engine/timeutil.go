package engine

// Times inside the engine are int64 milliseconds since the Unix epoch, UTC.
// The calendar arithmetic below is integer-only (civil-from-days), so it needs
// no time zone database and cannot differ between replicas.

const (
	msPerSecond = 1000
	msPerMinute = 60 * msPerSecond
	msPerHour   = 60 * msPerMinute
	msPerDay    = 24 * msPerHour
	// neverMS marks a lot that never expires by date.
	neverMS = int64(1<<63 - 1)
)

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian date.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
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
	return y, m, d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// yearOf returns the UTC calendar year of t.
func yearOf(tMS int64) int64 {
	y, _, _ := civilFromDays(floorDiv(tMS, msPerDay))
	return y
}

// monthKey returns year*12 + (month-1) of t, a key that orders months.
func monthKey(tMS int64) int64 {
	y, m, _ := civilFromDays(floorDiv(tMS, msPerDay))
	return y*12 + m - 1
}

func daysInMonth(y, m int64) int64 {
	switch m {
	case 1, 3, 5, 7, 8, 10, 12:
		return 31
	case 4, 6, 9, 11:
		return 30
	}
	if (y%4 == 0 && y%100 != 0) || y%400 == 0 {
		return 29
	}
	return 28
}

func digits(b []byte, n int) (int64, bool) {
	if len(b) < n {
		return 0, false
	}
	var v int64
	for i := 0; i < n; i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// parseRFC3339 parses an RFC 3339 timestamp (UTC or with an offset, any
// number of fractional digits) into milliseconds, truncating below the
// millisecond. It allocates nothing.
func parseRFC3339(b []byte) (int64, bool) {
	// YYYY-MM-DDTHH:MM:SS
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	if b[10] != 'T' && b[10] != 't' {
		return 0, false
	}
	y, ok1 := digits(b[0:], 4)
	mo, ok2 := digits(b[5:], 2)
	d, ok3 := digits(b[8:], 2)
	h, ok4 := digits(b[11:], 2)
	mi, ok5 := digits(b[14:], 2)
	s, ok6 := digits(b[17:], 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return 0, false
	}
	if mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59 {
		return 0, false
	}
	i := 19
	var frac int64
	if b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if i-start < 3 {
				frac = frac*10 + int64(b[i]-'0')
			}
			i++
		}
		n := i - start
		if n == 0 {
			return 0, false
		}
		for ; n < 3; n++ {
			frac *= 10
		}
	}
	if i >= len(b) {
		return 0, false
	}
	var offMS int64
	switch b[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		if len(b)-i != 6 || b[i+3] != ':' {
			return 0, false
		}
		oh, okh := digits(b[i+1:], 2)
		om, okm := digits(b[i+4:], 2)
		if !okh || !okm || oh > 23 || om > 59 {
			return 0, false
		}
		offMS = (oh*60 + om) * msPerMinute
		if b[i] == '-' {
			offMS = -offMS
		}
		i += 6
	default:
		return 0, false
	}
	if i != len(b) {
		return 0, false
	}
	days := daysFromCivil(y, mo, d)
	return days*msPerDay + h*msPerHour + mi*msPerMinute + s*msPerSecond + frac - offMS, true
}

// appendRFC3339 appends t as YYYY-MM-DDTHH:MM:SS.mmmZ.
func appendRFC3339(dst []byte, tMS int64) []byte {
	days := floorDiv(tMS, msPerDay)
	rem := tMS - days*msPerDay
	y, m, d := civilFromDays(days)
	pad := func(dst []byte, v int64, n int) []byte {
		var buf [8]byte
		for i := n - 1; i >= 0; i-- {
			buf[i] = byte('0' + v%10)
			v /= 10
		}
		return append(dst, buf[:n]...)
	}
	dst = pad(dst, y, 4)
	dst = append(dst, '-')
	dst = pad(dst, m, 2)
	dst = append(dst, '-')
	dst = pad(dst, d, 2)
	dst = append(dst, 'T')
	dst = pad(dst, rem/msPerHour, 2)
	dst = append(dst, ':')
	dst = pad(dst, rem%msPerHour/msPerMinute, 2)
	dst = append(dst, ':')
	dst = pad(dst, rem%msPerMinute/msPerSecond, 2)
	dst = append(dst, '.')
	dst = pad(dst, rem%msPerSecond, 3)
	return append(dst, 'Z')
}

// FormatTime formats engine milliseconds as RFC 3339 UTC.
func FormatTime(tMS int64) string { return string(appendRFC3339(nil, tMS)) }

// AppendTime appends engine milliseconds as RFC 3339 UTC with milliseconds
// (YYYY-MM-DDTHH:MM:SS.mmmZ), the form FormatTime returns.
func AppendTime(dst []byte, tMS int64) []byte { return appendRFC3339(dst, tMS) }

// ParseTime parses an RFC 3339 timestamp into engine milliseconds.
func ParseTime(s string) (int64, bool) { return parseRFC3339([]byte(s)) }
