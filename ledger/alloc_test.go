package ledger

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestAppendAllocatesPerBatchNotPerEntry: an append of 1000 entries whose
// owners are known allocates a bounded number of objects per batch (the
// Pebble batch, the per-append maps), none per entry or per command: the
// keys and values are built in scratch buffers that Pebble copies.
func TestAppendAllocatesPerBatchNotPerEntry(t *testing.T) {
	l, err := Open("", Options{fs: vfs.NewMem(), CacheSize: 8 << 20, MemTableSize: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	g := newGen(1, 200, 4)
	batches := make([][]Entry, 8)
	for i := range batches {
		batches[i] = g.batch(1000)
	}
	pos := uint64(0)
	for _, es := range batches { // every owner interned, every member cached
		pos++
		if err := l.Append(pos, es); err != nil {
			t.Fatal(err)
		}
	}
	const maxPerBatch = 200 // 1000 entries: per-entry allocations would exceed it fivefold
	allocs := testing.AllocsPerRun(16, func() {
		pos++
		if err := l.Append(pos, batches[pos%uint64(len(batches))]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > maxPerBatch {
		t.Fatalf("an append of 1000 entries allocated %.0f objects, want at most %d (none per entry)", allocs, maxPerBatch)
	}
}
