package engine

import "unicode/utf8"

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

// Decode decodes one command line into c. A command that fails the
// `invalid` check comes back with c.Invalid set (Problem says why); Decode
// never fails otherwise.
func (d *Decoder) Decode(line []byte, c *Command) {
	*c = Command{}
	if need := len(line); cap(d.scratch)-len(d.scratch) < need {
		// Earlier commands keep pointing at the old buffer.
		d.scratch = make([]byte, 0, max(2*cap(d.scratch), need, 4096))
	}
	p := parser{b: line, d: d}
	var seen seenFields
	p.object(c, &seen)
	if !p.err {
		p.ws()
		if p.i != len(line) {
			p.err = true
		}
	}
	if p.err {
		*c = Command{Invalid: true}
		c.setFault(fault{rule: faultSyntax, at: int32(min(p.i, len(line)))})
		return
	}
	c.check(&seen)
}

// DecodePrefix decodes the command object that b starts with (an element
// of a JSON array, say, with the rest of the array after it), so that a
// caller needs no second pass to find where the element ends. It returns
// the object's length in bytes and ok; with ok, c is what Decode gives for
// b[:n]. It declines (ok false, c undefined: call Decode on the element)
// when b does not start with a well-formed object or the object nests a
// value: the caller's framing judges those, and Decode answers them.
func (d *Decoder) DecodePrefix(b []byte, c *Command) (n int, ok bool) {
	*c = Command{}
	p := parser{b: b, d: d}
	var seen seenFields
	p.object(c, &seen)
	if p.err || p.nested {
		return 0, false
	}
	c.check(&seen)
	return p.i, true
}

// check validates a parsed command (the fields, their kinds and values)
// and sets Invalid and the fault, or the payload digest.
func (c *Command) check(seen *seenFields) {
	if c.Fields&fID == 0 || seen.strings&fID == 0 {
		c.ID = nil
	}
	f := seen.fault
	if f.rule == faultNone {
		f = c.validate(seen.typeVal, seen.strings, seen.kinds, seen.at)
	} else if seen.strings&fType != 0 {
		c.Type = typeOf(seen.typeVal) // for Problem's list of the type's fields
	}
	c.setFault(f)
	c.Invalid = f.rule != faultNone
	if c.Invalid {
		if !utf8.Valid(c.ID) {
			// Bytes that are not UTF-8 are no JSON string (RFC 8259
			// §8.1): echo "", and the result line stays JSON text.
			c.ID = nil
		}
		return
	}
	c.Hash = c.payloadHash()
}

// seenFields is what parsing a command's fields leaves for validate: the
// raw type and at, which fields were strings, each field's value kind, and
// the first unknown or repeated field in line order.
type seenFields struct {
	typeVal []byte
	at      []byte
	strings uint32
	kinds   [16]uint8
	fault   fault
}

// object parses a command object into c and seen, setting p.err when the
// line is not one JSON object.
func (p *parser) object(c *Command, seen *seenFields) {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		p.err = true
		return
	}
	p.i++
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return
	}
	for !p.err {
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			p.err = true
			break
		}
		keyAt := p.i
		key := p.str()
		p.ws()
		if p.err || p.i >= len(p.b) || p.b[p.i] != ':' {
			p.err = true
			break
		}
		p.i++
		kind, s, n := p.value(0)
		if p.err {
			break
		}
		seen.field(c, fieldBit(key), keyAt, kind, s, n)
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
}

// field stores one parsed field (bit 0 for an unknown key) in c, noting its
// kind for validate. An unknown or repeated field makes the command
// invalid; the first one in line order is the fault. A repeated field
// keeps its first value, and a repeated id echoes "": readers that keep the
// first value and readers that keep the last would disagree (SPEC §6).
func (seen *seenFields) field(c *Command, bit uint32, keyAt int, kind int, s []byte, n int64) {
	if bit == 0 || c.Fields&bit != 0 {
		if seen.fault.rule == faultNone {
			seen.fault = fault{rule: faultUnknown, at: int32(keyAt)}
			if bit != 0 {
				seen.fault = fault{rule: faultRepeated, field: bitIndex(bit)}
			}
		}
		if bit == fID {
			seen.strings &^= fID
		}
		return
	}
	c.Fields |= bit
	if kind == vString {
		seen.strings |= bit
	} else {
		seen.strings &^= bit
	}
	seen.kinds[bitIndex(bit)] = uint8(kind)
	switch bit {
	case fType:
		seen.typeVal = s
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
	case fReward:
		c.Reward = s
	case fAt:
		seen.at = s
	case fAmount:
		c.Amount = n
	case fPoints:
		c.Points = n
	case fTimeout:
		c.TimeoutS = n
	}
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
	case "reward":
		return fReward
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

func isIntField(bit uint32) bool {
	return bit == fAmount || bit == fPoints || bit == fTimeout
}

// validate checks a parsed command's shape (validateShape) and values
// (validateValues); the zero fault: valid.
func (c *Command) validate(typeVal []byte, stringFields uint32, kinds [16]uint8, at []byte) fault {
	if f := c.validateShape(typeVal, stringFields, kinds); f.rule != faultNone {
		return f
	}
	return c.validateValues(at)
}

// validateShape checks the type, that the type's fields and no others are
// present, and each value's JSON kind.
func (c *Command) validateShape(typeVal []byte, stringFields uint32, kinds [16]uint8) fault {
	if c.Fields&fType == 0 || stringFields&fType == 0 {
		return fault{rule: faultType}
	}
	c.Type = typeOf(typeVal)
	if c.Type == TypeNone {
		return fault{rule: faultType}
	}
	req, opt := requiredFields[c.Type], optionalFields[c.Type]
	if missing := req &^ c.Fields; missing != 0 {
		return fault{rule: faultMissing, field: bitIndex(missing & -missing)}
	}
	if extra := c.Fields &^ (req | opt); extra != 0 {
		return fault{rule: faultNotAllowed, field: bitIndex(extra & -extra)}
	}
	for bit, idx := uint32(1), uint8(0); bit <= fReward; bit, idx = bit<<1, idx+1 {
		switch {
		case c.Fields&bit == 0:
		case isIntField(bit) && kinds[idx] != vInt:
			return fault{rule: faultNotInt, field: idx}
		case !isIntField(bit) && stringFields&bit == 0:
			return fault{rule: faultNotString, field: idx}
		}
	}
	return fault{}
}

// validateValues checks each present field's value (SPEC §1, §5, §9).
func (c *Command) validateValues(at []byte) fault {
	has := func(bit uint32) bool { return c.Fields&bit != 0 }
	bad := uint32(0)
	switch {
	case has(fID) && !validID(c.ID):
		bad = fID
	case has(fMember) && !validMember(c.Member):
		bad = fMember
	case has(fReferred) && !validMember(c.Referred):
		bad = fReferred
	case has(fTo) && !validMember(c.To):
		bad = fTo
	case has(fPartner) && !validToken(string(c.Partner), 32):
		bad = fPartner
	case has(fCategory) && !validToken(string(c.Category), 32):
		bad = fCategory
	case has(fPlan) && !validToken(string(c.Plan), 32):
		bad = fPlan
	case has(fAction) && !validToken(string(c.Action), 32):
		bad = fAction
	case has(fReward) && !validToken(string(c.Reward), 32):
		bad = fReward
	case has(fOriginal) && !validID(c.Original):
		bad = fOriginal
	case has(fReason) && len(c.Reason) > maxReasonLen:
		bad = fReason
	case has(fAmount) && (c.Amount < 1 || c.Amount > maxAmount):
		bad = fAmount
	case has(fPoints) && c.Type == TypeAdjust && (c.Points == 0 || c.Points < -maxPoints || c.Points > maxPoints):
		bad = fPoints
	case has(fPoints) && c.Type != TypeAdjust && (c.Points < 1 || c.Points > maxPoints):
		bad = fPoints
	case has(fTimeout) && (c.TimeoutS < 1 || c.TimeoutS > maxTimeoutS):
		bad = fTimeout
	case c.Type == TypeTransfer && string(c.Member) == string(c.To):
		return fault{rule: faultSameMember, field: bitIndex(fTo)}
	case c.Type == TypeReferral && string(c.Member) == string(c.Referred):
		return fault{rule: faultSameMember, field: bitIndex(fReferred)}
	}
	if bad == 0 && has(fAt) {
		if t, ok := parseRFC3339(at); ok {
			c.AtMS = t
		} else {
			bad = fAt
		}
	}
	if bad != 0 {
		return fault{rule: faultValue, field: bitIndex(bad)}
	}
	return fault{}
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

// hashInt digests v's 8 bytes, low byte first. A zero byte's step is a
// multiplication alone (h ^ 0 = h), so the high zero bytes of the small
// values a command carries (lengths, type, amounts) fold into one
// multiplication by a power of the prime: the same digest, in a quarter of
// the steps.
func hashInt(h uint64, v int64) uint64 {
	u, k := uint64(v), 0
	for ; u != 0; k++ {
		h ^= u & 0xFF
		h *= fnvPrime
		u >>= 8
	}
	return h * fnvPrimePow[8-k]
}

// fnvPrimePow[k] is fnvPrime to the power k, modulo 2^64.
var fnvPrimePow = func() (p [9]uint64) {
	p[0] = 1
	for k := 1; k < len(p); k++ {
		p[k] = p[k-1] * fnvPrime
	}
	return p
}()

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
	if c.Fields&fReward != 0 {
		// Only a claim carries it: every other command keeps the digest it
		// had before claims existed, so stored records still match retries.
		h = hashInt(h, int64(len(c.Reward)))
		h = hashBytes(h, c.Reward)
	}
	h = hashInt(h, c.Amount)
	h = hashInt(h, c.Points)
	return hashInt(h, c.TimeoutS)
}
