package engine

import (
	"fmt"
	"path/filepath"
	"testing"
	"unsafe"
)

// TestMemoryFootprint pins the per-member and per-lot costs stated in
// doc.go, so a field added without thought shows up here.
func TestMemoryFootprint(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"lot", unsafe.Sizeof(lot{}), 24},
		{"member", unsafe.Sizeof(member{}), 80},
		{"memberExt", unsafe.Sizeof(memberExt{}), 168},
		{"memberRetail", unsafe.Sizeof(memberRetail{}), 40},
		{"record", unsafe.Sizeof(record{}), 88},
		{"refundEvent", unsafe.Sizeof(refundEvent{}), 24},
		{"purchaseRec", unsafe.Sizeof(purchaseRec{}), 40},
		{"redemptionRec", unsafe.Sizeof(redemptionRec{}), 32},
		{"holdRec", unsafe.Sizeof(holdRec{}), 40},
		{"part", unsafe.Sizeof(part{}), 24},
	} {
		if c.got > c.want {
			t.Errorf("%s is %d bytes, doc.go says %d", c.name, c.got, c.want)
		}
	}
}

// memberTableBytes is what an engine holds for its members, without their
// lots and ext: the member table, the name store, the member index and the
// touched bits, all at their capacity.
func memberTableBytes(e *Engine) int {
	n := e.mnames.bytes() + 8*cap(e.byName.slots) + 8*cap(e.touchedSet)
	for _, c := range e.members.chunks {
		n += cap(c) * int(unsafe.Sizeof(member{}))
	}
	return n
}

// TestBytesPerMember: a member with a 24-byte id costs at most 128 bytes
// of memory with its index slot (issue 14: 120M members in 16 GB), and its
// one lot 24. The figure comes from the engine's own capacities after real
// purchases by 409,600 members: the index has just doubled (to 2^20 slots,
// 39 % full: near its most bytes per member) and the member table fills 25
// chunks (a table's last chunk, at most 1.3 MB, is not a cost per member).
func TestBytesPerMember(t *testing.T) {
	if testing.Short() {
		t.Skip("applies 409,600 purchases")
	}
	prog := loadProgramFile(t, filepath.Join("..", "testdata", "conformance", "coalition.program.json"))
	e := NewWithOptions(prog, Options{StoreBacked: true}) // records evicted: only members stay
	const members = 25 << chunkBits
	var (
		dec     Decoder
		cmds    = make([]Command, 0, 4096)
		res     []Result
		entries []Entry
		missing [][]byte
		pos     uint64
	)
	discard := func(string, []byte) error { return nil }
	for i := 0; i < members; {
		cmds = cmds[:0]
		dec.Reset()
		for ; i < members && len(cmds) < cap(cmds); i++ {
			cmds = append(cmds, Command{})
			dec.Decode(fmt.Appendf(nil, `{"type":"purchase","id":"p%d","member":"member-%017d","partner":%q,"amount":1234,"at":"2026-01-01T00:00:00Z"}`,
				i, i, prog.Partners[0].ID), &cmds[len(cmds)-1])
		}
		pos++
		missing = e.AppendMissing(cmds, missing[:0])
		e.SetPosition(pos)
		res, entries = e.Apply(cmds, res[:0], entries[:0])
		_ = e.AppendDirty(discard)
		e.Evict(1000, pos)
	}
	if e.Members() != members || len(e.nameOf(e.members.at(0))) != 24 || len(e.byName.slots) != 1<<20 {
		t.Fatalf("%d members, id %q, %d index slots", e.Members(), e.nameOf(e.members.at(0)), len(e.byName.slots))
	}
	lotBytes := 0
	for mi := range int32(members) {
		lotBytes += cap(e.members.at(mi).lots()) * int(unsafe.Sizeof(lot{}))
	}
	per := float64(memberTableBytes(e)) / members
	t.Logf("%d members: %.1f bytes each (index %d slots), lots %.1f bytes each",
		members, per, len(e.byName.slots), float64(lotBytes)/members)
	if per > 128 {
		t.Errorf("a member costs %.1f bytes with its id and index slot, want at most 128", per)
	}
	if lotBytes > 24*members {
		t.Errorf("a member's one lot costs %.1f bytes, want 24", float64(lotBytes)/members)
	}
}
