package logstore

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// Entry value layout (format 1):
//
//	[1]     format (= 1)
//	[1]     flags (bit 0: AppendedAt present)
//	uvarint Index (must equal the index in the key)
//	uvarint Term
//	[1]     Type
//	varint  AppendedAt.UnixNano()   (only if flag bit 0)
//	uvarint len(Data),       Data
//	uvarint len(Extensions), Extensions
//
// A zero AppendedAt is stored as "absent" and decodes to the zero time.
// AppendedAt decodes as time.Unix(0, n): wall clock only, local location.
const (
	entryFormat     byte = 1
	flagAppendedAt  byte = 1 << 0
	knownEntryFlags      = flagAppendedAt
)

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func varintLen(v int64) int {
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	return uvarintLen(u)
}

func encodedLogSize(l *raft.Log) int {
	n := 2 + uvarintLen(l.Index) + uvarintLen(l.Term) + 1
	if !l.AppendedAt.IsZero() {
		n += varintLen(l.AppendedAt.UnixNano())
	}
	n += uvarintLen(uint64(len(l.Data))) + len(l.Data)
	n += uvarintLen(uint64(len(l.Extensions))) + len(l.Extensions)
	return n
}

// encodeLog writes l into dst, which must be exactly encodedLogSize(l) long.
func encodeLog(dst []byte, l *raft.Log) {
	var flags byte
	if !l.AppendedAt.IsZero() {
		flags |= flagAppendedAt
	}
	dst[0] = entryFormat
	dst[1] = flags
	p := 2
	p += binary.PutUvarint(dst[p:], l.Index)
	p += binary.PutUvarint(dst[p:], l.Term)
	dst[p] = byte(l.Type)
	p++
	if flags&flagAppendedAt != 0 {
		p += binary.PutVarint(dst[p:], l.AppendedAt.UnixNano())
	}
	p += binary.PutUvarint(dst[p:], uint64(len(l.Data)))
	p += copy(dst[p:], l.Data)
	p += binary.PutUvarint(dst[p:], uint64(len(l.Extensions)))
	p += copy(dst[p:], l.Extensions)
	if p != len(dst) {
		panic(fmt.Sprintf("logstore: encodeLog wrote %d bytes, sized %d", p, len(dst)))
	}
}

// decodeLog decodes v into l, overwriting every field. Data and Extensions
// are copied into one fresh allocation (capacity-limited so appending to one
// cannot overwrite the other); nothing in l aliases v afterwards.
func decodeLog(v []byte, wantIndex uint64, l *raft.Log) error {
	bad := func(what string) error {
		return fmt.Errorf("%w: entry %d: %s", ErrCorrupt, wantIndex, what)
	}
	if len(v) < 2 {
		return bad("short value")
	}
	if v[0] != entryFormat {
		return bad(fmt.Sprintf("unknown format %d", v[0]))
	}
	flags := v[1]
	if flags&^knownEntryFlags != 0 {
		return bad(fmt.Sprintf("unknown flags %#x", flags))
	}
	p := 2
	uv := func() (uint64, bool) {
		x, n := binary.Uvarint(v[p:])
		if n <= 0 {
			return 0, false
		}
		p += n
		return x, true
	}
	index, ok := uv()
	if !ok {
		return bad("index")
	}
	if index != wantIndex {
		return bad(fmt.Sprintf("holds index %d", index))
	}
	term, ok := uv()
	if !ok {
		return bad("term")
	}
	if p >= len(v) {
		return bad("type")
	}
	typ := raft.LogType(v[p])
	p++
	var at time.Time
	if flags&flagAppendedAt != 0 {
		ns, n := binary.Varint(v[p:])
		if n <= 0 {
			return bad("appended-at")
		}
		p += n
		at = time.Unix(0, ns)
	}
	dataLen, ok := uv()
	if !ok || dataLen > uint64(len(v)-p) {
		return bad("data length")
	}
	dataOff := p
	p += int(dataLen)
	extLen, ok := uv()
	if !ok || extLen != uint64(len(v)-p) {
		return bad("extensions length")
	}
	extOff := p

	var data, ext []byte
	if total := int(dataLen) + int(extLen); total > 0 {
		buf := make([]byte, total)
		copy(buf, v[dataOff:dataOff+int(dataLen)])
		copy(buf[dataLen:], v[extOff:])
		if dataLen > 0 {
			data = buf[:dataLen:dataLen]
		}
		if extLen > 0 {
			ext = buf[dataLen:]
		}
	}
	*l = raft.Log{
		Index:      index,
		Term:       term,
		Type:       typ,
		Data:       data,
		Extensions: ext,
		AppendedAt: at,
	}
	return nil
}
