package engine

import (
	"encoding/binary"
	"errors"
)

// The binary form of a validated command, as carried in Raft log entries:
// a version byte, the type, the field bits, the payload hash, the integers
// as varints and the strings as length-prefixed bytes (a claim's reward
// last, present only when its field bit is). It is compact
// (≈60–90 bytes for a purchase) and decodes without allocation.

const binaryVersion = 1

// ErrBinary reports a malformed binary command.
var ErrBinary = errors.New("engine: malformed binary command")

// AppendBinary appends the binary form of a valid command.
func AppendBinary(dst []byte, c *Command) []byte {
	assert(!c.Invalid, "only valid commands are encoded")
	dst = append(dst, binaryVersion, byte(c.Type))
	dst = binary.AppendUvarint(dst, uint64(c.Fields))
	dst = binary.LittleEndian.AppendUint64(dst, c.Hash)
	dst = binary.AppendVarint(dst, c.AtMS)
	dst = binary.AppendVarint(dst, c.Amount)
	dst = binary.AppendVarint(dst, c.Points)
	dst = binary.AppendVarint(dst, c.TimeoutS)
	for _, s := range [...][]byte{c.ID, c.Member, c.Partner, c.Category, c.Original, c.Reason, c.Plan, c.Referred, c.Action, c.To} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	if c.Fields&fReward != 0 {
		// Only a claim carries it, so every other command keeps its bytes.
		dst = binary.AppendUvarint(dst, uint64(len(c.Reward)))
		dst = append(dst, c.Reward...)
	}
	return dst
}

// DecodeBinary decodes one command from the front of src and returns the
// rest. The command's slices point into src.
func DecodeBinary(src []byte, c *Command) ([]byte, error) {
	*c = Command{}
	if len(src) < 2 || src[0] != binaryVersion || src[1] == 0 || src[1] >= byte(typeCount) {
		return nil, ErrBinary
	}
	c.Type = CommandType(src[1])
	src = src[2:]
	fields, n := binary.Uvarint(src)
	if n <= 0 || fields >= 1<<16 {
		return nil, ErrBinary
	}
	c.Fields = uint32(fields)
	src = src[n:]
	if len(src) < 8 {
		return nil, ErrBinary
	}
	c.Hash = binary.LittleEndian.Uint64(src)
	src = src[8:]
	for _, p := range [...]*int64{&c.AtMS, &c.Amount, &c.Points, &c.TimeoutS} {
		v, n := binary.Varint(src)
		if n <= 0 {
			return nil, ErrBinary
		}
		*p = v
		src = src[n:]
	}
	strs := [...]*[]byte{&c.ID, &c.Member, &c.Partner, &c.Category, &c.Original, &c.Reason, &c.Plan, &c.Referred, &c.Action, &c.To, &c.Reward}
	count := len(strs) - 1
	if c.Fields&fReward != 0 {
		count++
	}
	for _, p := range strs[:count] {
		l, n := binary.Uvarint(src)
		if n <= 0 || l > uint64(len(src)-n) {
			return nil, ErrBinary
		}
		if l > 0 {
			*p = src[n : n+int(l) : n+int(l)]
		}
		src = src[n+int(l):]
	}
	return src, nil
}
