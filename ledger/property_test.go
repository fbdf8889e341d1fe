package ledger

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"pgregory.net/rapid"
)

// TestPropertyBalances: random balanced batches (every entry moves points
// between two accounts) keep the overall sum at zero, and BalanceAt /
// BalanceAtSeq / AccountBalances match a brute-force model, across reopens,
// whether the owner cache holds every owner or overflows (then owners are
// looked up in Pebble).
func TestPropertyBalances(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		fs := vfs.NewMem()
		ownerCache := rapid.SampledFrom([]int{1, 3, 0}).Draw(rt, "ownerCache")
		opts := Options{fs: fs, CacheSize: 4 << 20, MemTableSize: 2 << 20, OwnerCacheSize: ownerCache}
		l, err := Open("db", opts)
		if err != nil {
			rt.Fatal(err)
		}
		defer func() { l.Close() }()
		members := []string{"a", "b", "c"}
		memberG := rapid.SampledFrom(members)
		acctG := rapid.Custom(func(t *rapid.T) Account {
			k := AccountKind(rapid.IntRange(1, int(accountKindMax)).Draw(t, "kind"))
			switch {
			case k.IsMember():
				return Account{k, memberG.Draw(t, "m")}
			case k.IsPartner():
				return Account{k, rapid.SampledFrom([]string{"p", "q"}).Draw(t, "p")}
			}
			return Account{Kind: k}
		})
		m := &model{}
		pos := uint64(0)
		nb := rapid.IntRange(1, 8).Draw(rt, "batches")
		for b := 0; b < nb; b++ {
			n := rapid.IntRange(0, 150).Draw(rt, "n")
			es := make([]Entry, 0, n)
			for i := 0; i < n; i++ {
				d := acctG.Draw(rt, "debit")
				c := acctG.Draw(rt, "credit")
				if d == c {
					continue
				}
				es = append(es, Entry{
					AtMS:      rapid.Int64Range(-3*dayMS, 30*dayMS).Draw(rt, "at"),
					CommandID: fmt.Sprintf("c%d", rapid.IntRange(0, 40).Draw(rt, "cmd")),
					Kind:      Kind(rapid.IntRange(1, int(kindMax)).Draw(rt, "kind")),
					Debit:     d, Credit: c,
					Points: rapid.Int64Range(1, 1e9).Draw(rt, "points"),
				})
			}
			pos += uint64(rapid.IntRange(1, 3).Draw(rt, "step"))
			if err := l.Append(pos, es); err != nil {
				rt.Fatal(err)
			}
			m.add(es)
			if rapid.Bool().Draw(rt, "reopen") {
				if err := l.Close(); err != nil {
					rt.Fatal(err)
				}
				if l, err = Open("db", opts); err != nil {
					rt.Fatal(err)
				}
				if l.Position() != pos || l.LastSeq() != uint64(len(m.entries)) {
					rt.Fatalf("reopen: %d/%d", l.Position(), l.LastSeq())
				}
			}
		}
		var total int64
		want := m.accounts()
		if err := l.AccountBalances(func(a Account, bal int64) error {
			total += bal
			if want[a] != bal {
				rt.Fatalf("%s: %d, want %d", a, bal, want[a])
			}
			return nil
		}); err != nil {
			rt.Fatal(err)
		}
		if total != 0 {
			rt.Fatalf("sum of balances %d", total)
		}
		for i := 0; i < 10; i++ {
			mem := memberG.Draw(rt, "qm")
			at := rapid.Int64Range(-4*dayMS, 31*dayMS).Draw(rt, "qat")
			a, p, h, err := l.BalanceAt(mem, at)
			exists := false
			for j := range m.entries {
				exists = exists || touches(&m.entries[j], mem)
			}
			if !exists {
				if err == nil {
					rt.Fatalf("unknown member %s: no error", mem)
				}
				continue
			}
			if err != nil {
				rt.Fatal(err)
			}
			if w := m.balance(mem, func(e *Entry) bool { return e.AtMS <= at }); (Balance{a, p, h}) != w {
				rt.Fatalf("BalanceAt(%s, %d) = %d %d %d, want %+v", mem, at, a, p, h, w)
			}
			seq := uint64(rapid.IntRange(0, len(m.entries)+1).Draw(rt, "qseq"))
			a, p, h, err = l.BalanceAtSeq(mem, seq)
			if err != nil {
				rt.Fatal(err)
			}
			if w := m.balance(mem, func(e *Entry) bool { return e.Seq <= seq }); (Balance{a, p, h}) != w {
				rt.Fatalf("BalanceAtSeq(%s, %d) = %d %d %d, want %+v", mem, seq, a, p, h, w)
			}
		}
		s, err := l.Verify()
		if err != nil {
			rt.Fatal(err)
		}
		if s.Entries != uint64(len(m.entries)) {
			rt.Fatalf("verify counted %d entries, want %d", s.Entries, len(m.entries))
		}
	})
}
