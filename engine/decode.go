package engine

// A hand-written, strict JSON decoder for commands: it allocates nothing in
// steady state (strings point into the input, or into a scratch buffer when
// they carry escapes) and enforces SPEC §6: unknown fields, floats, exponents
// and quoted numbers are `invalid`.

const (
	maxAmount    = int64(1_000_000_000_000)
	maxPoints    = int64(1_000_000_000_000_000)
	maxReasonLen = 256
	maxTimeoutS  = 86400
)

// Decoder decodes NDJSON command lines. Slices in decoded commands stay
// valid until Reset.
type Decoder struct {
	scratch []byte
}

// Reset lets the decoder reuse its scratch buffer; commands decoded before
// must no longer be used.
func (d *Decoder) Reset() { d.scratch = d.scratch[:0] }

type parser struct {
	b   []byte
	i   int
	d   *Decoder
	err bool
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

func fieldBit(k []byte) uint32 {
	switch string(k) {
	case "type":
		return fType
	case "id":
		return fID
	case "member":
		return fMember
	case "partner":
		return fPartner
	case "amount":
		return fAmount
	case "category":
		return fCategory
	case "at":
		return fAt
	case "original":
		return fOriginal
	case "points":
		return fPoints
	case "reason":
		return fReason
	case "plan":
		return fPlan
	case "referred":
		return fReferred
	case "action":
		return fAction
	case "to":
		return fTo
	case "timeout_s":
		return fTimeout
	}
	return 0
}

func typeOf(s []byte) CommandType {
	for t := TypePurchase; t < typeCount; t++ {
		if string(s) == typeNames[t] {
			return t
		}
	}
	return TypeNone
}

// Decode decodes one command line into c. A command that fails the
// `invalid` check comes back with c.Invalid set; Decode never fails otherwise.
func (d *Decoder) Decode(line []byte, c *Command) {
	*c = Command{}
	if need := len(line); cap(d.scratch)-len(d.scratch) < need {
		// Earlier commands keep pointing at the old buffer.
		d.scratch = make([]byte, 0, max(2*cap(d.scratch), need, 4096))
	}
	p := parser{b: line, d: d}
	p.ws()
	if p.i >= len(line) || line[p.i] != '{' {
		c.Invalid = true
		return
	}
	p.i++
	var typeVal []byte
	var badFields, stringFields uint32
	var kinds [16]uint8
	var at []byte
	p.ws()
	if p.i < len(line) && line[p.i] == '}' {
		p.i++
	} else {
		for !p.err {
			p.ws()
			if p.i >= len(line) || line[p.i] != '"' {
				p.err = true
				break
			}
			key := p.str()
			p.ws()
			if p.err || p.i >= len(line) || line[p.i] != ':' {
				p.err = true
				break
			}
			p.i++
			kind, s, n := p.value(0)
			if p.err {
				break
			}
			bit := fieldBit(key)
			if bit == 0 {
				badFields |= 1 << 31
			} else {
				c.Fields |= bit
				if kind == vString {
					stringFields |= bit
				} else {
					stringFields &^= bit
				}
				idx := 0
				for b := bit; b > 1; b >>= 1 {
					idx++
				}
				kinds[idx] = uint8(kind)
				switch bit {
				case fType:
					typeVal = s
				case fID:
					c.ID = s
				case fMember:
					c.Member = s
				case fPartner:
					c.Partner = s
				case fCategory:
					c.Category = s
				case fOriginal:
					c.Original = s
				case fReason:
					c.Reason = s
				case fPlan:
					c.Plan = s
				case fReferred:
					c.Referred = s
				case fAction:
					c.Action = s
				case fTo:
					c.To = s
				case fAt:
					at = s
				case fAmount:
					c.Amount = n
				case fPoints:
					c.Points = n
				case fTimeout:
					c.TimeoutS = n
				}
			}
			p.ws()
			if p.i < len(line) && line[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(line) && line[p.i] == '}' {
				p.i++
				break
			}
			p.err = true
		}
	}
	if !p.err {
		p.ws()
		if p.i != len(line) {
			p.err = true
		}
	}
	if p.err {
		*c = Command{Invalid: true}
		return
	}
	if c.Fields&fID == 0 || stringFields&fID == 0 {
		c.ID = nil
	}
	c.Invalid = !c.validate(typeVal, badFields, stringFields, kinds, at)
	if c.Invalid {
		return
	}
	c.Hash = c.payloadHash()
}

func isIntField(bit uint32) bool {
	return bit == fAmount || bit == fPoints || bit == fTimeout
}

func (c *Command) validate(typeVal []byte, badFields, stringFields uint32, kinds [16]uint8, at []byte) bool {
	if badFields != 0 || c.Fields&fType == 0 || stringFields&fType == 0 {
		return false
	}
	c.Type = typeOf(typeVal)
	if c.Type == TypeNone {
		return false
	}
	req, opt := requiredFields[c.Type], optionalFields[c.Type]
	if c.Fields&req != req || c.Fields&^(req|opt) != 0 {
		return false
	}
	for bit, idx := uint32(1), 0; bit <= fTimeout; bit, idx = bit<<1, idx+1 {
		if c.Fields&bit == 0 {
			continue
		}
		if isIntField(bit) {
			if kinds[idx] != vInt {
				return false
			}
		} else if stringFields&bit == 0 {
			return false
		}
	}
	if c.Fields&fID != 0 && !validID(c.ID) {
		return false
	}
	if c.Fields&fMember != 0 && !validMember(c.Member) {
		return false
	}
	if c.Fields&fReferred != 0 && !validMember(c.Referred) {
		return false
	}
	if c.Fields&fTo != 0 && !validMember(c.To) {
		return false
	}
	if c.Fields&fPartner != 0 && !validToken(string(c.Partner), 32) {
		return false
	}
	if c.Fields&fCategory != 0 && !validToken(string(c.Category), 32) {
		return false
	}
	if c.Fields&fPlan != 0 && !validToken(string(c.Plan), 32) {
		return false
	}
	if c.Fields&fAction != 0 && !validToken(string(c.Action), 32) {
		return false
	}
	if c.Fields&fOriginal != 0 && !validID(c.Original) {
		return false
	}
	if c.Fields&fReason != 0 && len(c.Reason) > maxReasonLen {
		return false
	}
	if c.Fields&fAmount != 0 && (c.Amount < 1 || c.Amount > maxAmount) {
		return false
	}
	if c.Fields&fPoints != 0 {
		if c.Type == TypeAdjust {
			if c.Points == 0 || c.Points < -maxPoints || c.Points > maxPoints {
				return false
			}
		} else if c.Points < 1 || c.Points > maxPoints {
			return false
		}
	}
	if c.Fields&fTimeout != 0 && (c.TimeoutS < 1 || c.TimeoutS > maxTimeoutS) {
		return false
	}
	if c.Type == TypeTransfer && string(c.Member) == string(c.To) {
		return false
	}
	if c.Type == TypeReferral && string(c.Member) == string(c.Referred) {
		return false
	}
	if c.Fields&fAt != 0 {
		t, ok := parseRFC3339(at)
		if !ok {
			return false
		}
		c.AtMS = t
	}
	return true
}

// ValidID reports whether b is a well-formed command id (SPEC §1).
func ValidID(b []byte) bool { return validID(b) }

// ValidMember reports whether b is a well-formed member id (SPEC §1).
func ValidMember(b []byte) bool { return validMember(b) }

// ValidPartner reports whether b is a well-formed partner id (SPEC §1).
func ValidPartner(b []byte) bool { return validToken(string(b), 32) }

func validID(b []byte) bool {
	if len(b) < 1 || len(b) > 64 {
		return false
	}
	for _, c := range b {
		if c < 0x21 || c > 0x7E {
			return false
		}
	}
	return true
}

func validMember(b []byte) bool {
	if len(b) < 1 || len(b) > 64 {
		return false
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// FNV-1a, 64 bits: deterministic on every replica (unlike hash/maphash).
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

func hashInt(h uint64, v int64) uint64 {
	for k := 0; k < 8; k++ {
		h ^= uint64(byte(v >> (8 * k)))
		h *= fnvPrime
	}
	return h
}

// payloadHash digests every field but `at`, in a fixed order, with its tag
// and length, so field order in the JSON does not matter.
func (c *Command) payloadHash() uint64 {
	h := uint64(fnvOffset)
	h = hashInt(h, int64(c.Type))
	h = hashInt(h, int64(c.Fields&^fAt))
	for _, s := range [...][]byte{c.ID, c.Member, c.Partner, c.Category, c.Original, c.Reason, c.Plan, c.Referred, c.Action, c.To} {
		h = hashInt(h, int64(len(s)))
		h = hashBytes(h, s)
	}
	h = hashInt(h, c.Amount)
	h = hashInt(h, c.Points)
	return hashInt(h, c.TimeoutS)
}
