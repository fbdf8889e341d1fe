package api

import (
	"testing"

	"github.com/accrual/accrual/api/wire"
)

// BenchmarkAppendChange renders one feed line (a transfer: two balances),
// the feed's per-entry cost in the HTTP layer.
func BenchmarkAppendChange(b *testing.B) {
	c := wire.Change{Entry: wire.Entry{Seq: 123456789, At: "2026-06-01T12:00:00.000Z", CommandID: "transfer-000123",
		Kind: "transfer", Debit: "member:M000124:available", Credit: "member:M000123:available", Points: 250},
		Balances: []wire.MemberBalance{{Member: "M000124", Available: 1250}, {Member: "M000123", Available: 40, Pending: 75}}}
	var line []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		line = appendChange(line[:0], &c)
	}
}
