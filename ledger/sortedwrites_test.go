package ledger

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestSortedWritesSetsInKeyOrderLastWriteLast: the batch gets the Sets in
// ascending key order, and the Sets of one key in call order (so the last
// one still wins), whatever order they were made in.
func TestSortedWritesSetsInKeyOrderLastWriteLast(t *testing.T) {
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct {
		name string
		sets []string // key=value, in call order
		want []string // key=value, in the batch's order
	}{
		{"already sorted", []string{"a=1", "b=2", "c=3"}, []string{"a=1", "b=2", "c=3"}},
		{"reversed", []string{"c=3", "b=2", "a=1"}, []string{"a=1", "b=2", "c=3"}},
		{"one key twice: call order", []string{"b=first", "a=1", "b=last"}, []string{"a=1", "b=first", "b=last"}},
		{"one key thrice among others", []string{"k=1", "z=9", "k=2", "a=0", "k=3"}, []string{"a=0", "k=1", "k=2", "k=3", "z=9"}},
		{"prefixes shorter than the head", []string{"ab\x00=3", "ab=2", "a=1", "a\x00=0"}, []string{"a=1", "a\x00=0", "ab=2", "ab\x00=3"}},
		{"keys past the head", []string{"xmember-002=b", "xmember-001=a", "xmember-0010=c"}, []string{"xmember-001=a", "xmember-0010=c", "xmember-002=b"}},
		{"empty values", []string{"d=", "c="}, []string{"c=", "d="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w sortedWrites
			w.reset()
			for _, kv := range tc.sets {
				k, v, _ := strings.Cut(kv, "=")
				w.set([]byte(k), []byte(v))
			}
			b := db.NewBatch()
			defer b.Close()
			if err := w.writeTo(b); err != nil {
				t.Fatal(err)
			}
			var got []string
			for r := b.Reader(); ; {
				_, k, v, ok, err := r.Next()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				got = append(got, string(k)+"="+string(v))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("batch order %q, want %q", got, tc.want)
			}
		})
	}
}

// TestAppendBuildsMostKeysInKeyOrder: an append makes its blocks, owner
// ids, batch record and member index keys (most of its keys) in ascending
// order, so that sortedWrites sorts none of them.
func TestAppendBuildsMostKeysInKeyOrder(t *testing.T) {
	l, err := Open("", Options{fs: vfs.NewMem(), CacheSize: 8 << 20, MemTableSize: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	g := newGen(3, 500, 4)
	for pos := uint64(1); pos <= 3; pos++ {
		if err := l.Append(pos, g.batch(2000)); err != nil {
			t.Fatal(err)
		}
		for _, p := range []byte{pBlock, pIDOwner, pBatch, pMemberIx} {
			if grp := &l.sorted.groups[p]; grp.unsorted {
				t.Errorf("append %d: the %q keys (%d) came out of key order", pos, p, len(grp.ops))
			}
		}
	}
	if n := len(l.sorted.groups[pMemberIx].ops); n < 2000 {
		t.Fatalf("the last append made %d member index keys, want >= 2000", n)
	}
}
