package ledger

import (
	"errors"
	"reflect"
	"testing"
)

// wantChanges is the model's feed: every entry after `after`, each with
// the balances of its members summed over the entries up to it.
func (m *model) changes(after uint64) []Change {
	var out []Change
	for i := int(after); i < len(m.entries); i++ {
		e := m.entries[i]
		c := Change{Entry: e, Members: []MemberBalance{}}
		for _, a := range []Account{e.Debit, e.Credit} {
			if !a.Kind.IsMember() || (len(c.Members) == 1 && c.Members[0].Member == a.Owner) {
				continue
			}
			b := m.balance(a.Owner, func(x *Entry) bool { return x.Seq <= e.Seq })
			c.Members = append(c.Members, MemberBalance{Member: a.Owner, Balance: b})
		}
		out = append(out, c)
	}
	return out
}

func readChanges(t *testing.T, l *Ledger, after uint64, max int) []Change {
	t.Helper()
	var got []Change
	n, err := l.Changes(after, max, func(c *Change) error {
		cp := *c
		cp.Members = append([]MemberBalance{}, c.Members...)
		got = append(got, cp)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(got) {
		t.Fatalf("Changes returned %d, passed %d", n, len(got))
	}
	return got
}

func TestChangesCarryEntriesAndBalancesAfterThem(t *testing.T) {
	l, m := fixture(t, 4, 6, 120, 5)
	want := m.changes(0)
	if got := readChanges(t, l, 0, maxChanges); !reflect.DeepEqual(got, want) {
		t.Fatalf("feed from 0 differs from the model (%d vs %d entries)", len(got), len(want))
	}
	last := l.LastSeq()
	cases := []struct {
		name  string
		after uint64
		max   int
		want  []Change
	}{
		{"a page from the middle", 100, 50, want[100:150]},
		{"the page ends at the last entry", last - 3, 50, want[last-3:]},
		{"at the end: nothing", last, 50, nil},
		{"beyond the end: nothing", last + 10, 50, nil},
		{"max 0: nothing", 0, 0, nil},
	}
	for _, c := range cases {
		if got := readChanges(t, l, c.after, c.max); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %d changes, want %d", c.name, len(got), len(c.want))
		}
	}
}

func TestChangesResumedFromEachCursorHaveNoGap(t *testing.T) {
	l, _ := fixture(t, 5, 4, 90, 4)
	all := readChanges(t, l, 0, maxChanges)
	var joined []Change
	for after := uint64(0); after < l.LastSeq(); {
		page := readChanges(t, l, after, 7)
		joined = append(joined, page...)
		after = page[len(page)-1].Seq
	}
	if !reflect.DeepEqual(joined, all) {
		t.Fatal("pages of 7 joined differ from one read of the whole feed")
	}
}

func TestChangesStopAtTheCallbacksError(t *testing.T) {
	l, _ := fixture(t, 6, 2, 50, 3)
	stop := errors.New("stop")
	calls := 0
	n, err := l.Changes(0, 100, func(*Change) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Fatalf("n=%d err=%v, want 2 passed and the callback's error", n, err)
	}
}
