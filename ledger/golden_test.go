package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// goldenStoreSHA256 is storeDigest of the store goldenAppends builds,
// recorded at commit 85e51a3. A change to how an append writes (the order
// of its Sets: 8253572 wrote them in key order, and this held) must not
// change one stored byte; a change of the on-disk format changes it, and
// comes with a new format version.
const goldenStoreSHA256 = "0ccdd1e4f8d02d80f1ce6568773424466f2b182fab7b230a6da557fae9ea15e0"

// TestAppendStoresTheBytesItAlwaysStored: appends of new and known owners,
// several days, transfers, records (one id Set twice in one batch, one
// rewritten by a later batch) and partner balances moved by every batch
// leave exactly the keys and values the unsorted writer left.
func TestAppendStoresTheBytesItAlwaysStored(t *testing.T) {
	l, err := Open("", Options{fs: vfs.NewMem(), CacheSize: 8 << 20, MemTableSize: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	goldenAppends(t, l)
	keys, digest := storeDigest(t, l)
	if digest != goldenStoreSHA256 {
		t.Fatalf("the store's %d keys and values hash to %s, want %s (the bytes an append stores changed)", keys, digest, goldenStoreSHA256)
	}
}

// goldenAppends appends 12 batches of 700 entries over 300 members (new
// members in the first batches, known ones later) with a record per
// command, plus a record Set twice in one batch and one rewritten later.
func goldenAppends(t *testing.T, l *Ledger) {
	t.Helper()
	g := newGen(42, 300, 5)
	for pos := uint64(1); pos <= 12; pos++ {
		es := g.batch(700)
		var recs []Record
		for i := range es {
			if i == 0 || es[i].CommandID != es[i-1].CommandID {
				recs = append(recs, Record{ID: []byte(es[i].CommandID), Value: []byte(fmt.Sprintf("v%d-%d", pos, i))})
			}
		}
		recs = append(recs, Record{ID: []byte("dup"), Value: []byte(fmt.Sprintf("first-%d", pos))},
			Record{ID: []byte("dup"), Value: []byte(fmt.Sprintf("last-%d", pos))})
		if pos%4 == 0 {
			recs = append(recs, Record{ID: []byte(es[0].CommandID), Value: []byte("rewritten")})
		}
		if err := l.AppendWithRecords(pos, es, recs); err != nil {
			t.Fatal(err)
		}
	}
}

// storeDigest is the count of keys in the store and the sha256 of every key
// and value, each length-prefixed, in key order.
func storeDigest(t *testing.T, l *Ledger) (int, string) {
	t.Helper()
	it, err := l.db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	h := sha256.New()
	var n [8]byte
	keys := 0
	for ok := it.First(); ok; ok = it.Next() {
		for _, b := range [][]byte{it.Key(), it.Value()} {
			h.Write(binary.BigEndian.AppendUint64(n[:0], uint64(len(b))))
			h.Write(b)
		}
		keys++
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
	return keys, hex.EncodeToString(h.Sum(nil))
}
