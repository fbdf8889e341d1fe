package engine

// The JSON scanner under Decode: strings (escapes decoded into the
// decoder's scratch buffer), integers, and skipping any other value.

import "encoding/binary"

type parser struct {
	b   []byte
	i   int
	d   *Decoder
	err bool
	// nested: a value was an object or an array (no command field is;
	// DecodePrefix leaves such an element to the caller's framing).
	nested bool
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// str parses a JSON string at p.i (which is '"') and returns its value.
func (p *parser) str() []byte {
	p.i++ // opening quote
	start := p.i
	// Eight bytes a step up to the first that ends the string, starts an
	// escape or is a control byte; the byte loop then judges that one.
	for p.i+8 <= len(p.b) && !hasStringStop(binary.LittleEndian.Uint64(p.b[p.i:])) {
		p.i += 8
	}
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			v := p.b[start:p.i]
			p.i++
			return v
		}
		if c == '\\' {
			return p.strSlow(start)
		}
		if c < 0x20 {
			p.err = true
			return nil
		}
		p.i++
	}
	p.err = true
	return nil
}

const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// hasStringStop reports whether any of x's eight bytes is '"', '\\' or
// below 0x20. (v - lowBits) &^ v & highBits is not zero exactly when
// some byte of v is zero, and (x - n*lowBits) &^ x & highBits exactly
// when some byte of x is below n (n <= 0x80).
func hasStringStop(x uint64) bool {
	quote := x ^ ('"' * lowBits)
	slash := x ^ ('\\' * lowBits)
	return ((quote-lowBits)&^quote|(slash-lowBits)&^slash|(x-0x20*lowBits)&^x)&highBits != 0
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func (p *parser) hex4() int {
	if p.i+4 > len(p.b) {
		p.err = true
		return 0
	}
	v := 0
	for k := 0; k < 4; k++ {
		h := hexVal(p.b[p.i+k])
		if h < 0 {
			p.err = true
			return 0
		}
		v = v<<4 | h
	}
	p.i += 4
	return v
}

func (p *parser) strSlow(start int) []byte {
	out := len(p.d.scratch)
	p.d.scratch = append(p.d.scratch, p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return p.d.scratch[out:len(p.d.scratch):len(p.d.scratch)]
		case c < 0x20:
			p.err = true
			return nil
		case c != '\\':
			p.d.scratch = append(p.d.scratch, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.b) {
			p.err = true
			return nil
		}
		e := p.b[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			p.d.scratch = append(p.d.scratch, e)
		case 'b':
			p.d.scratch = append(p.d.scratch, '\b')
		case 'f':
			p.d.scratch = append(p.d.scratch, '\f')
		case 'n':
			p.d.scratch = append(p.d.scratch, '\n')
		case 'r':
			p.d.scratch = append(p.d.scratch, '\r')
		case 't':
			p.d.scratch = append(p.d.scratch, '\t')
		case 'u':
			r := p.hex4()
			if p.err {
				return nil
			}
			if r >= 0xD800 && r < 0xDC00 && p.i+6 <= len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
				save := p.i
				p.i += 2
				r2 := p.hex4()
				if !p.err && r2 >= 0xDC00 && r2 < 0xE000 {
					r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
				} else {
					p.err = false
					p.i = save
				}
			}
			p.d.scratch = appendRune(p.d.scratch, r)
		default:
			p.err = true
			return nil
		}
	}
	p.err = true
	return nil
}

func appendRune(b []byte, r int) []byte {
	switch {
	case r < 0x80:
		return append(b, byte(r))
	case r < 0x800:
		return append(b, byte(0xC0|r>>6), byte(0x80|r&0x3F))
	case r < 0x10000:
		return append(b, byte(0xE0|r>>12), byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
	}
	return append(b, byte(0xF0|r>>18), byte(0x80|(r>>12)&0x3F), byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
}

// value kinds
const (
	vString = iota
	vInt
	vOther // valid JSON of another kind (float, bool, null, array, object, big int)
)

// value parses any JSON value; for strings and integers it returns them.
func (p *parser) value(depth int) (kind int, s []byte, n int64) {
	p.ws()
	if p.i >= len(p.b) || depth > 64 {
		p.err = true
		return vOther, nil, 0
	}
	switch c := p.b[p.i]; {
	case c == '"':
		return vString, p.str(), 0
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == '{':
		p.nested = true
		p.i++
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == '}' {
			p.i++
			return vOther, nil, 0
		}
		for !p.err {
			p.ws()
			if p.i >= len(p.b) || p.b[p.i] != '"' {
				p.err = true
				break
			}
			p.str()
			p.ws()
			if p.i >= len(p.b) || p.b[p.i] != ':' {
				p.err = true
				break
			}
			p.i++
			p.value(depth + 1)
			p.ws()
			if p.i < len(p.b) && p.b[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.b) && p.b[p.i] == '}' {
				p.i++
				break
			}
			p.err = true
		}
		return vOther, nil, 0
	case c == '[':
		p.nested = true
		p.i++
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == ']' {
			p.i++
			return vOther, nil, 0
		}
		for !p.err {
			p.value(depth + 1)
			p.ws()
			if p.i < len(p.b) && p.b[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.b) && p.b[p.i] == ']' {
				p.i++
				break
			}
			p.err = true
		}
		return vOther, nil, 0
	default:
		// NaN and ±Infinity are not JSON, but common parsers (Python's
		// json among them) read them as numbers: the line is then a command
		// with an ill-formed field (its id echoed), not a malformed line.
		for _, lit := range [...]string{"true", "false", "null", "NaN", "Infinity"} {
			if len(p.b)-p.i >= len(lit) && string(p.b[p.i:p.i+len(lit)]) == lit {
				p.i += len(lit)
				return vOther, nil, 0
			}
		}
		p.err = true
		return vOther, nil, 0
	}
}

// number parses a JSON number; only an integer that fits int64 is vInt.
func (p *parser) number() (int, []byte, int64) {
	neg := false
	if p.b[p.i] == '-' {
		neg = true
		p.i++
		if len(p.b)-p.i >= 8 && string(p.b[p.i:p.i+8]) == "Infinity" {
			p.i += 8
			return vOther, nil, 0
		}
	}
	if p.i >= len(p.b) || p.b[p.i] < '0' || p.b[p.i] > '9' {
		p.err = true
		return vOther, nil, 0
	}
	integer := true
	var v uint64
	overflow := false
	if p.b[p.i] == '0' {
		p.i++
	} else {
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			d := uint64(p.b[p.i] - '0')
			if v > (1<<63-d)/10 {
				overflow = true
			} else {
				v = v*10 + d
			}
			p.i++
		}
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		integer = false
		p.i++
		if p.i >= len(p.b) || p.b[p.i] < '0' || p.b[p.i] > '9' {
			p.err = true
			return vOther, nil, 0
		}
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		integer = false
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if p.i >= len(p.b) || p.b[p.i] < '0' || p.b[p.i] > '9' {
			p.err = true
			return vOther, nil, 0
		}
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
		}
	}
	if !integer || overflow || (!neg && v > 1<<63-1) {
		return vOther, nil, 0
	}
	if neg {
		return vInt, nil, -int64(v)
	}
	return vInt, nil, int64(v)
}
