package engine

import (
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
		{"member", unsafe.Sizeof(member{}), 96},
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
