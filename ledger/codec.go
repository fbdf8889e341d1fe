package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Key prefixes (see doc.go).
const (
	pMeta     = 'M'
	pBalance  = 'a'
	pCommand  = 'c'
	pDay      = 'd'
	pBlock    = 'e'
	pIDOwner  = 'i'
	pOwnerID  = 'o'
	pBatch    = 'p'
	pRecord   = 'r'
	pMemberIx = 'x'
)

// Owner namespaces (member ids and partner ids are separate name spaces).
const (
	nsMember  = 'm'
	nsPartner = 'p'
)

// blockEntries is the maximum number of entries per block value. Small
// enough that fetching one entry for a statement decodes ~1-2 KiB, large
// enough that block keys are a negligible share of keys per entry.
const blockEntries = 64

const formatVersion = 1

const dayMS = 86_400_000

var metaKey = []byte{pMeta}

func key8(prefix byte, n uint64) []byte {
	k := make([]byte, 9)
	k[0] = prefix
	binary.BigEndian.PutUint64(k[1:], n)
	return k
}

func blockKey(firstSeq uint64) []byte { return key8(pBlock, firstSeq) }
func batchKey(pos uint64) []byte      { return key8(pBatch, pos) }
func balanceKey(code uint64) []byte   { return key8(pBalance, code) }

func memberIxKey(dst []byte, id uint32, seq uint64) []byte {
	dst = append(dst, pMemberIx)
	dst = binary.BigEndian.AppendUint32(dst, id)
	return binary.BigEndian.AppendUint64(dst, seq)
}

// memberIxBounds returns [lower, upper) of a member's index keys.
func memberIxBounds(id uint32) (lo, hi []byte) {
	lo = binary.BigEndian.AppendUint32([]byte{pMemberIx}, id)
	if id == ^uint32(0) {
		return lo, []byte{pMemberIx + 1}
	}
	return lo, binary.BigEndian.AppendUint32([]byte{pMemberIx}, id+1)
}

func commandPrefix(cmd string) []byte {
	k := make([]byte, 0, len(cmd)+2)
	k = append(k, pCommand)
	k = append(k, cmd...)
	return append(k, 0)
}

// appendCommandKey appends a command index key to dst (Append passes a
// scratch buffer: one key per command, no allocation).
func appendCommandKey(dst []byte, cmd string, seq uint64) []byte {
	dst = append(dst, pCommand)
	dst = append(dst, cmd...)
	dst = append(dst, 0)
	return binary.BigEndian.AppendUint64(dst, seq)
}

// dayOf returns the UTC day number of a millisecond timestamp.
func dayOf(atMS int64) int64 {
	d := atMS / dayMS
	if atMS%dayMS < 0 {
		d--
	}
	return d
}

func dayKey(day int64, blockSeq uint64) []byte {
	k := make([]byte, 0, 17)
	k = append(k, pDay)
	k = binary.BigEndian.AppendUint64(k, uint64(day)^(1<<63))
	return binary.BigEndian.AppendUint64(k, blockSeq)
}

func ownerIDKey(ns byte, name string) []byte {
	return appendOwnerIDKey(make([]byte, 0, len(name)+2), ns, name)
}

func appendOwnerIDKey(dst []byte, ns byte, name string) []byte {
	dst = append(dst, pOwnerID, ns)
	return append(dst, name...)
}

func idOwnerKey(id uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{pIDOwner}, id)
}

func upperBound(prefix []byte) []byte {
	u := append([]byte(nil), prefix...)
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] != 0xff {
			u[i]++
			return u[:i+1]
		}
	}
	return nil
}

// Account codes: ownerID<<3 | (kind-1). Operator accounts have owner id 0.
func acctCode(id uint32, k AccountKind) uint64 { return uint64(id)<<3 | uint64(k-1) }
func codeOwner(c uint64) uint32                { return uint32(c >> 3) }
func codeKind(c uint64) AccountKind            { return AccountKind(c&7) + 1 }

func nsOf(k AccountKind) byte {
	if k.IsMember() {
		return nsMember
	}
	return nsPartner
}

// validCode checks an account code read from disk.
func validCode(c uint64) bool {
	if c>>3 > uint64(^uint32(0)) {
		return false
	}
	k := codeKind(c)
	if k.IsOperator() {
		return codeOwner(c) == 0
	}
	return codeOwner(c) != 0
}

// rawEntry is an entry as stored: accounts as codes, seq implicit.
type rawEntry struct {
	Seq       uint64
	AtMS      int64
	CommandID string
	Kind      Kind
	Debit     uint64
	Credit    uint64
	Points    int64
}

func zig(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzig(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// Block value format:
//
//	uvarint count, zigzag varint base at
//	count × { byte kind | 0x80 if same command as previous entry,
//	          [uvarint shared prefix with previous command id, uvarint suffix len, suffix],
//	          zigzag varint at - previous at, uvarint debit, uvarint credit, uvarint points }
//
// Seq is implicit: the block key's first seq + index.
const sameCmdFlag = 0x80

func encodeBlock(dst []byte, es []rawEntry) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(es)))
	var base int64
	if len(es) > 0 {
		base = es[0].AtMS
	}
	dst = binary.AppendUvarint(dst, zig(base))
	prevAt := base
	prevCmd := ""
	for i := range es {
		e := &es[i]
		if i > 0 && e.CommandID == prevCmd {
			dst = append(dst, byte(e.Kind)|sameCmdFlag)
		} else {
			dst = append(dst, byte(e.Kind))
			n := 0
			for n < len(prevCmd) && n < len(e.CommandID) && prevCmd[n] == e.CommandID[n] {
				n++
			}
			dst = binary.AppendUvarint(dst, uint64(n))
			dst = binary.AppendUvarint(dst, uint64(len(e.CommandID)-n))
			dst = append(dst, e.CommandID[n:]...)
			prevCmd = e.CommandID
		}
		dst = binary.AppendUvarint(dst, zig(e.AtMS-prevAt))
		prevAt = e.AtMS
		dst = binary.AppendUvarint(dst, e.Debit)
		dst = binary.AppendUvarint(dst, e.Credit)
		dst = binary.AppendUvarint(dst, uint64(e.Points))
	}
	return dst
}

var errShort = errors.New("truncated")

type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.err = fmt.Errorf("bad varint at offset %d", d.off)
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) byte1() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.err = errShort
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

func (d *decoder) bytes(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)-d.off) {
		d.err = errShort
		return nil
	}
	s := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

// minEncodedEntry is the smallest possible encoded entry (kind, at, debit,
// credit, points), used to bound the count before allocating.
const minEncodedEntry = 5

// decodeBlock decodes a block value. It never panics on arbitrary input and
// checks the form of each entry (kind, account codes, points > 0, debit !=
// credit). The returned entries do not alias v.
func decodeBlock(v []byte, firstSeq uint64, dst []rawEntry) ([]rawEntry, error) {
	d := decoder{b: v}
	count := d.uvarint()
	base := unzig(d.uvarint())
	if d.err != nil {
		return dst, d.err
	}
	if count == 0 || count > blockEntries || count > uint64(len(v)-d.off)/minEncodedEntry {
		return dst, fmt.Errorf("bad entry count %d", count)
	}
	if firstSeq == 0 || firstSeq+count < firstSeq {
		return dst, fmt.Errorf("bad first seq %d", firstSeq)
	}
	prevAt := base
	prevCmd := ""
	for i := uint64(0); i < count; i++ {
		kb := d.byte1()
		if d.err != nil {
			return dst, fmt.Errorf("entry %d: %w", i, d.err)
		}
		e := rawEntry{Seq: firstSeq + i, Kind: Kind(kb &^ sameCmdFlag)}
		if !e.Kind.Valid() {
			return dst, fmt.Errorf("entry %d: bad kind %d", i, e.Kind)
		}
		if kb&sameCmdFlag != 0 {
			if i == 0 {
				return dst, fmt.Errorf("entry 0: same-command flag")
			}
			e.CommandID = prevCmd
		} else {
			shared := d.uvarint()
			n := d.uvarint()
			if d.err == nil && (shared > uint64(len(prevCmd)) || n > maxCommandIDLen) {
				return dst, fmt.Errorf("entry %d: bad command id lengths", i)
			}
			suffix := d.bytes(n)
			if d.err != nil {
				return dst, fmt.Errorf("entry %d: %w", i, d.err)
			}
			e.CommandID = prevCmd[:shared] + string(suffix)
			prevCmd = e.CommandID
		}
		delta := unzig(d.uvarint())
		e.AtMS = prevAt + delta
		prevAt = e.AtMS
		e.Debit = d.uvarint()
		e.Credit = d.uvarint()
		p := d.uvarint()
		if d.err != nil {
			return dst, fmt.Errorf("entry %d: %w", i, d.err)
		}
		if p == 0 || p > 1<<62 {
			return dst, fmt.Errorf("entry %d: bad points %d", i, p)
		}
		e.Points = int64(p)
		if !validCode(e.Debit) || !validCode(e.Credit) || e.Debit == e.Credit {
			return dst, fmt.Errorf("entry %d: bad accounts %d/%d", i, e.Debit, e.Credit)
		}
		dst = append(dst, e)
	}
	if d.off != len(v) {
		return dst, fmt.Errorf("%d trailing bytes", len(v)-d.off)
	}
	return dst, nil
}

// memberIx is the value of a member index key: the entry's time, the
// running maximum of entry times for the member up to this entry, and the
// member's running balances after the entry.
type memberIx struct {
	AtMS, MaxAtMS            int64
	Available, Pending, Held int64
}

func (m *memberIx) encode(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, zig(m.AtMS))
	dst = binary.AppendUvarint(dst, uint64(m.MaxAtMS-m.AtMS))
	dst = binary.AppendUvarint(dst, zig(m.Available))
	dst = binary.AppendUvarint(dst, zig(m.Pending))
	return binary.AppendUvarint(dst, zig(m.Held))
}

func decodeMemberIx(v []byte) (memberIx, error) {
	d := decoder{b: v}
	var m memberIx
	m.AtMS = unzig(d.uvarint())
	m.MaxAtMS = m.AtMS + int64(d.uvarint())
	m.Available = unzig(d.uvarint())
	m.Pending = unzig(d.uvarint())
	m.Held = unzig(d.uvarint())
	if d.err == nil && d.off != len(v) {
		d.err = errors.New("trailing bytes")
	}
	if d.err == nil && m.MaxAtMS < m.AtMS {
		d.err = errors.New("max at overflow")
	}
	return m, d.err
}

// batchRec is the value of a batch key.
type batchRec struct {
	FirstSeq, Count uint64
	Hash            [32]byte
}

func (r *batchRec) encode() []byte {
	dst := binary.AppendUvarint(nil, r.FirstSeq)
	dst = binary.AppendUvarint(dst, r.Count)
	return append(dst, r.Hash[:]...)
}

func decodeBatchRec(v []byte) (batchRec, error) {
	d := decoder{b: v}
	var r batchRec
	r.FirstSeq = d.uvarint()
	r.Count = d.uvarint()
	h := d.bytes(32)
	if d.err != nil {
		return r, d.err
	}
	copy(r.Hash[:], h)
	if d.off != len(v) {
		return r, errors.New("trailing bytes")
	}
	return r, nil
}

// meta is the value of the meta key.
type meta struct {
	Version     uint64
	Position    uint64
	LastSeq     uint64
	Batches     uint64
	NextOwnerID uint32
	Hash        [32]byte
}

func (m *meta) encode() []byte {
	dst := binary.AppendUvarint(nil, m.Version)
	dst = binary.AppendUvarint(dst, m.Position)
	dst = binary.AppendUvarint(dst, m.LastSeq)
	dst = binary.AppendUvarint(dst, m.Batches)
	dst = binary.AppendUvarint(dst, uint64(m.NextOwnerID))
	return append(dst, m.Hash[:]...)
}

func decodeMeta(v []byte) (meta, error) {
	d := decoder{b: v}
	var m meta
	m.Version = d.uvarint()
	m.Position = d.uvarint()
	m.LastSeq = d.uvarint()
	m.Batches = d.uvarint()
	n := d.uvarint()
	h := d.bytes(32)
	if d.err != nil {
		return m, d.err
	}
	if n > uint64(^uint32(0)) || n == 0 {
		return m, fmt.Errorf("bad next owner id %d", n)
	}
	m.NextOwnerID = uint32(n)
	copy(m.Hash[:], h)
	if d.off != len(v) {
		return m, errors.New("trailing bytes")
	}
	if m.Version != formatVersion {
		return m, fmt.Errorf("unknown format version %d", m.Version)
	}
	return m, nil
}
