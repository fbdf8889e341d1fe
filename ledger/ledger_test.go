package ledger

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestStrings(t *testing.T) {
	kinds := []struct {
		k    Kind
		want string
	}{{KindEarn, "earn"}, {KindMature, "mature"}, {KindClawback, "clawback"}, {KindRedeem, "redeem"},
		{KindCancel, "cancel"}, {KindExpire, "expire"}, {KindAdjust, "adjust"}, {KindHold, "hold"},
		{KindRelease, "release"}, {KindCapture, "capture"}, {KindTransfer, "transfer"}, {KindReward, "reward"}}
	for i, c := range kinds {
		if uint8(c.k) != uint8(i+1) || c.k.String() != c.want {
			t.Errorf("kind %d: %q, want %q", c.k, c.k.String(), c.want)
		}
		if k, ok := ParseKind(c.want); !ok || k != c.k {
			t.Errorf("ParseKind(%q) = %v", c.want, k)
		}
	}
	accts := []struct {
		a    Account
		want string
	}{
		{Account{AccountMemberPending, "m1"}, "member:m1:pending"},
		{Account{AccountMemberAvailable, "m1"}, "member:m1:available"},
		{Account{AccountMemberHeld, "m1"}, "member:m1:held"},
		{Account{AccountPartnerIssued, "p"}, "partner:p:issued"},
		{Account{AccountPartnerRedeemed, "p"}, "partner:p:redeemed"},
		{OperatorBreakage, "operator:breakage"},
		{OperatorAdjustments, "operator:adjustments"},
		{OperatorRewards, "operator:rewards"},
	}
	for i, c := range accts {
		if uint8(c.a.Kind) != uint8(i+1) || c.a.String() != c.want {
			t.Errorf("account %d: %q, want %q", c.a.Kind, c.a.String(), c.want)
		}
	}
}

func TestAppendRejects(t *testing.T) {
	ok := Entry{AtMS: 1, CommandID: "c", Kind: KindEarn, Debit: MemberPending("m"), Credit: PartnerIssued("p"), Points: 5}
	mod := func(f func(e *Entry)) Entry { e := ok; f(&e); return e }
	cases := []struct {
		name string
		pos  uint64
		e    Entry
		want string
	}{
		{"zero points", 2, mod(func(e *Entry) { e.Points = 0 }), "points 0"},
		{"negative points", 2, mod(func(e *Entry) { e.Points = -3 }), "points -3"},
		{"bad kind", 2, mod(func(e *Entry) { e.Kind = 0 }), "invalid kind"},
		{"kind too big", 2, mod(func(e *Entry) { e.Kind = 13 }), "invalid kind"},
		{"same account", 2, mod(func(e *Entry) { e.Credit = e.Debit }), "same account"},
		{"operator with owner", 2, mod(func(e *Entry) { e.Credit = Account{AccountOperatorBreakage, "x"} }), "operator account"},
		{"member without owner", 2, mod(func(e *Entry) { e.Debit = Account{Kind: AccountMemberAvailable} }), "owner must be"},
		{"bad account kind", 2, mod(func(e *Entry) { e.Debit = Account{Kind: 9, Owner: "m"} }), "invalid account kind"},
		{"nul in command", 2, mod(func(e *Entry) { e.CommandID = "a\x00b" }), "NUL"},
		{"position not increasing", 1, ok, "<= current position"},
		{"position backwards", 0, ok, "<= current position"},
	}
	l := openMem(t)
	mustAppend(t, l, 1, []Entry{ok})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := l.Append(c.pos, []Entry{ok, c.e})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if l.Position() != 1 || l.LastSeq() != 1 {
				t.Fatalf("state changed: %d %d", l.Position(), l.LastSeq())
			}
		})
	}
	// The handle still works after rejected appends.
	mustAppend(t, l, 7, []Entry{ok})
	mustAppend(t, l, 8, nil) // empty batch: position only
	if l.Position() != 8 || l.LastSeq() != 2 {
		t.Fatalf("position %d seq %d", l.Position(), l.LastSeq())
	}
	if _, err := l.Verify(); err != nil {
		t.Fatal(err)
	}
}

// fixture builds a ledger of n entries from gen seed, in batches.
func fixture(t testing.TB, seed uint64, batches, perBatch, members int) (*Ledger, *model) {
	l := openMem(t)
	g := newGen(seed, members, 3)
	m := &model{}
	for i := 0; i < batches; i++ {
		es := g.batch(perBatch)
		mustAppend(t, l, uint64(10*(i+1)), es)
		for j := range es {
			if es[j].Seq != uint64(len(m.entries)+j+1) {
				t.Fatalf("seq %d assigned %d", len(m.entries)+j+1, es[j].Seq)
			}
		}
		m.add(es)
	}
	return l, m
}

func TestStatement(t *testing.T) {
	l, m := fixture(t, 1, 12, 150, 7)
	mem := "member-000003"
	all := m.statement(mem, math.MinInt64, math.MaxInt64)
	mid := all[len(all)/2].AtMS
	cases := []struct {
		name     string
		q        StatementQuery
		from, to int64
	}{
		{"default", StatementQuery{}, math.MinInt64, math.MaxInt64},
		{"limit 1", StatementQuery{Limit: 1}, math.MinInt64, math.MaxInt64},
		{"limit 7", StatementQuery{Limit: 7}, math.MinInt64, math.MaxInt64},
		{"limit too big", StatementQuery{Limit: 5000}, math.MinInt64, math.MaxInt64},
		{"from only", StatementQuery{FromMS: mid, Limit: 10}, mid, math.MaxInt64},
		{"range", StatementQuery{FromMS: mid - 5*dayMS, ToMS: mid, Limit: 9}, mid - 5*dayMS, mid},
		{"empty range result", StatementQuery{FromMS: 1, ToMS: 2}, 1, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := m.statement(mem, c.from, c.to)
			limit := c.q.Limit
			if limit <= 0 {
				limit = 100
			}
			limit = min(limit, 1000)
			var got []Entry
			q := c.q
			for pages := 0; ; pages++ {
				if pages > len(want)+2 {
					t.Fatal("too many pages")
				}
				p, err := l.Statement(mem, q)
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Entries) > limit {
					t.Fatalf("page of %d > limit %d", len(p.Entries), limit)
				}
				got = append(got, p.Entries...)
				if p.Next == "" {
					break
				}
				q.Cursor = p.Next
			}
			if len(want) == 0 && len(got) == 0 {
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %d entries, want %d\n got[0]=%+v\nwant[0]=%+v", len(got), len(want), first(got), first(want))
			}
		})
	}
	t.Run("unknown member", func(t *testing.T) {
		if _, err := l.Statement("nobody", StatementQuery{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("bad cursor", func(t *testing.T) {
		if _, err := l.Statement(mem, StatementQuery{Cursor: "zz"}); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("partner is not a member", func(t *testing.T) {
		if _, err := l.Statement("partner-01", StatementQuery{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
}

func first(es []Entry) any {
	if len(es) == 0 {
		return nil
	}
	return es[0]
}

func TestBalanceAt(t *testing.T) {
	l, m := fixture(t, 2, 10, 200, 5)
	mem := "member-000002"
	st := m.statement(mem, math.MinInt64, math.MaxInt64)
	lastAt := int64(math.MinInt64)
	for _, e := range st {
		lastAt = max(lastAt, e.AtMS)
	}
	ats := []int64{math.MinInt64, 0, st[len(st)-1].AtMS - 1, st[len(st)-1].AtMS, st[len(st)/2].AtMS, st[len(st)/3].AtMS - dayMS, st[0].AtMS, lastAt, math.MaxInt64}
	for _, at := range ats {
		want := m.balance(mem, func(e *Entry) bool { return e.AtMS <= at })
		a, p, h, err := l.BalanceAt(mem, at)
		if err != nil {
			t.Fatal(err)
		}
		if (Balance{a, p, h}) != want {
			t.Errorf("BalanceAt(%d) = %v %v %v, want %+v", at, a, p, h, want)
		}
	}
	seqs := []uint64{0, 1, st[len(st)-1].Seq - 1, st[len(st)-1].Seq, st[len(st)/2].Seq, st[0].Seq, l.LastSeq(), math.MaxUint64}
	for _, s := range seqs {
		want := m.balance(mem, func(e *Entry) bool { return e.Seq <= s })
		a, p, h, err := l.BalanceAtSeq(mem, s)
		if err != nil {
			t.Fatal(err)
		}
		if (Balance{a, p, h}) != want {
			t.Errorf("BalanceAtSeq(%d) = %v %v %v, want %+v", s, a, p, h, want)
		}
	}
	if _, _, _, err := l.BalanceAt("nobody", 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
}

func TestCommandEntries(t *testing.T) {
	l, m := fixture(t, 3, 5, 100, 4)
	// A command id reused across batches gets two runs.
	extra := []Entry{{AtMS: 5, CommandID: "cmd-0000000001", Kind: KindAdjust, Debit: MemberAvailable("z"), Credit: OperatorAdjustments, Points: 9}}
	mustAppend(t, l, 1000, extra)
	m.add(extra)
	cases := []string{"cmd-0000000001", "cmd-0000000002", "cmd-0000000050", m.entries[len(m.entries)-2].CommandID, "nope", ""}
	for _, id := range cases {
		t.Run(id, func(t *testing.T) {
			got, err := l.CommandEntries(id)
			if err != nil {
				t.Fatal(err)
			}
			want := m.command(id)
			if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
				t.Fatalf("got %v\nwant %v", got, want)
			}
		})
	}
}

func TestSettlement(t *testing.T) {
	l, m := fixture(t, 4, 8, 250, 6)
	lo, hi := m.entries[0].AtMS, m.entries[len(m.entries)-1].AtMS
	cases := []struct {
		name     string
		from, to int64
	}{
		{"everything", math.MinInt64 / 2, math.MaxInt64 / 2},
		{"first week", lo, lo + 7*dayMS},
		{"mid-day cut", lo + 3*dayMS + 12345, hi - 2*dayMS - 777},
		{"one day", dayOf(lo+5*dayMS) * dayMS, dayOf(lo+5*dayMS)*dayMS + dayMS},
		{"nothing", hi + dayMS, hi + 2*dayMS},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := l.Settlement(c.from, c.to)
			if err != nil {
				t.Fatal(err)
			}
			want := m.settlement(c.from, c.to)
			if c.name == "everything" && (len(want.Partners) != 3 || want.Breakage == 0 || want.Outstanding == 0) {
				t.Fatalf("fixture too thin: %+v", want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
		})
	}
	if _, err := l.Settlement(5, 5); err == nil {
		t.Fatal("empty period accepted")
	}
}

func TestAccountBalancesAndReopen(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(5, 20, 3)
	m := &model{}
	for i := 1; i <= 5; i++ {
		es := g.batch(100)
		mustAppend(t, l, uint64(i), es)
		m.add(es)
	}
	pos, seq := l.Position(), l.LastSeq()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Position() != pos || l.LastSeq() != seq {
		t.Fatalf("reopen: %d/%d, want %d/%d", l.Position(), l.LastSeq(), pos, seq)
	}
	for i := 6; i <= 8; i++ {
		es := g.batch(100)
		mustAppend(t, l, uint64(i), es)
		m.add(es)
	}
	want := m.accounts()
	got := map[Account]int64{}
	var total int64
	if err := l.AccountBalances(func(a Account, b int64) error {
		if _, dup := got[a]; dup {
			t.Errorf("account %s twice", a)
		}
		got[a] = b
		total += b
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if total != 0 {
		t.Fatalf("total %d", total)
	}
	for a, b := range want {
		if got[a] != b {
			t.Errorf("%s: %d, want %d", a, got[a], b)
		}
	}
	for a, b := range got {
		if want[a] != b {
			t.Errorf("%s: %d, want %d", a, b, want[a])
		}
	}
	s, err := l.Verify()
	if err != nil {
		t.Fatal(err)
	}
	if s.Entries != uint64(len(m.entries)) || s.Batches != 8 || s.Position != 8 || s.Members != 20 || s.Partners != 3 {
		t.Fatalf("summary %+v", s)
	}
}
