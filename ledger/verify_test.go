package ledger

import (
	"errors"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// TestVerifyCatchesFlippedByte flips bytes in every stored entry block (and
// in index and balance values) through the raw Pebble store; verification
// must fail and name the place.
func TestVerifyCatchesFlippedByte(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(9, 10, 3)
	for i := 1; i <= 4; i++ {
		mustAppend(t, l, uint64(i*5), g.batch(150))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyDir(dir); err != nil {
		t.Fatal(err)
	}

	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	type kv struct{ k, v []byte }
	var all []kv
	if err := scan(db, nil, func(k, v []byte) error {
		all = append(all, kv{append([]byte(nil), k...), append([]byte(nil), v...)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	flip := func(k, v []byte, off int, mask byte) error {
		b := append([]byte(nil), v...)
		b[off] ^= mask
		if err := db.Set(k, b, pebble.NoSync); err != nil {
			t.Fatal(err)
		}
		_, verr := verifyReader(db)
		if err := db.Set(k, v, pebble.NoSync); err != nil {
			t.Fatal(err)
		}
		return verr
	}
	blocks, checked := 0, 0
	for _, x := range all {
		var offs []int
		want := ""
		switch x.k[0] {
		case pBlock:
			blocks++
			want = "batch position"
			if blocks == 1 {
				for i := range x.v { // every byte of the first block
					offs = append(offs, i)
				}
			} else {
				offs = []int{0, len(x.v) / 3, len(x.v) / 2, len(x.v) - 1}
			}
		case pMemberIx, pBalance, pBatch, pIDOwner, pOwnerID, pCommand:
			if len(x.v) > 0 {
				offs = []int{len(x.v) - 1}
			}
		}
		for _, off := range offs {
			for _, mask := range []byte{0x01, 0x80} {
				err := flip(x.k, x.v, off, mask)
				checked++
				if err == nil || !errors.Is(err, ErrCorrupt) {
					t.Fatalf("flip key %x byte %d mask %x: verify = %v", x.k, off, mask, err)
				}
				if want != "" && !strings.Contains(err.Error(), want) {
					t.Fatalf("flip key %x byte %d: error %q does not name the batch", x.k, off, err)
				}
			}
		}
	}
	if blocks < 8 || checked < 100 {
		t.Fatalf("only %d blocks / %d flips checked", blocks, checked)
	}
	// Restored: passes again. Then a persistent flip is caught by VerifyDir.
	if _, err := verifyReader(db); err != nil {
		t.Fatal(err)
	}
	var target kv
	for _, x := range all {
		if x.k[0] == pBlock {
			target = x // last block: in the batch at position 20
		}
	}
	b := append([]byte(nil), target.v...)
	b[len(b)/2] ^= 0x10
	if err := db.Set(target.k, b, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = VerifyDir(dir)
	if err == nil || !strings.Contains(err.Error(), "batch position 20") {
		t.Fatalf("VerifyDir = %v, want it to name batch position 20", err)
	}
	t.Logf("VerifyDir: %v", err)
}
