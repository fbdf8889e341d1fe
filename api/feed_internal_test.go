package api

import (
	"encoding/json"
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

// TestAppendChangeIsTheWireForm: the hand-written feed line is what
// encoding/json writes for wire.Change (the client decodes it so), with
// none, one or two balances and characters that need escaping.
func TestAppendChangeIsTheWireForm(t *testing.T) {
	e := wire.Entry{Seq: 7, At: "2026-06-01T12:00:00.000Z", CommandID: `id "quoted" \ back`, Kind: "earn",
		Debit: "member:M1:pending", Credit: "partner:shop:issued", Points: 42}
	for _, bs := range [][]wire.MemberBalance{{}, {{Member: "M1", Pending: 42}},
		{{Member: "M2", Available: 10}, {Member: "M1", Available: -3, Held: 5}}} {
		c := wire.Change{Entry: e, Balances: bs}
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendChange(nil, &c); string(got) != string(want)+"\n" {
			t.Errorf("appendChange:\n %s\nencoding/json:\n %s", got, want)
		}
	}
}
