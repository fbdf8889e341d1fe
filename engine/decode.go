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

// Decode decodes one command line into c. A command that fails the
// `invalid` check comes back with c.Invalid set; Decode never fails otherwise.
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
		return
	}
	if c.Fields&fID == 0 || seen.strings&fID == 0 || seen.twice&fID != 0 {
		c.ID = nil // nothing to echo, or no one id to echo (SPEC §6, v2.1)
	}
	c.Invalid = !c.validate(seen.typeVal, seen.bad, seen.strings, seen.kinds, seen.at)
	if c.Invalid {
		return
	}
	c.Hash = c.payloadHash()
}

// seenFields is what parsing a command's fields leaves for validate: the
// raw type and at, and which fields were unknown or strings, and each
// field's value kind.
type seenFields struct {
	typeVal []byte
	at      []byte
	bad     uint32
	twice   uint32 // fields named more than once
	strings uint32
	kinds   [16]uint8
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
		seen.field(c, fieldBit(key), kind, s, n)
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
// kind for validate.
func (seen *seenFields) field(c *Command, bit uint32, kind int, s []byte, n int64) {
	if bit == 0 || c.Fields&bit != 0 {
		// Unknown, or named twice: readers keeping the first value and
		// readers keeping the last must not see two commands (SPEC §6).
		seen.bad |= 1 << 31
		seen.twice |= c.Fields & bit
		return
	}
	c.Fields |= bit
	if kind == vString {
		seen.strings |= bit
	} else {
		seen.strings &^= bit
	}
	idx := 0
	for b := bit; b > 1; b >>= 1 {
		idx++
	}
	seen.kinds[idx] = uint8(kind)
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
	for bit, idx := uint32(1), 0; bit <= fReward; bit, idx = bit<<1, idx+1 {
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
	if c.Fields&fReward != 0 && !validToken(string(c.Reward), 32) {
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
