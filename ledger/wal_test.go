package ledger

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// Rule: a flipped byte in the ledger's WAL that synced writes follow is
// refused at open, even in a new store's first WAL, instead of being read
// as a torn tail that drops every entry after it.
func TestDamagedWALIsRefusedAtOpen(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{Sync: true})
	if err != nil {
		t.Fatal(err)
	}
	for pos := uint64(1); pos <= 40; pos = crashNext(pos) {
		mustAppend(t, l, pos, crashBatch(pos))
	}
	l.Close()
	names, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	sort.Strings(names)
	path := names[len(names)-1]
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 3<<15 {
		t.Fatalf("%s holds %d bytes; the test needs three 32 KiB WAL blocks", path, len(b))
	}
	b[33<<10] ^= 0xff // in the second block; synced chunks follow
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err = Open(dir, Options{})
	if err == nil {
		pos := l.Position()
		l.Close()
		t.Fatalf("Open after a flipped WAL byte: no error, position %d", pos)
	}
	if !pebble.IsCorruptionError(err) {
		t.Fatalf("Open after a flipped WAL byte: %v; want a corruption error", err)
	}
}

// Rule: a table block damaged while the ledger is open fails the read that
// meets it, with the file in pebble.ExtractDataCorruptionInfo; it does not
// panic in the reading goroutine (Pebble's default Fatalf, through the
// ledger's logger) nor answer from the damaged block.
func TestTableDamagedWhileOpenFailsTheRead(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for pos := uint64(1); pos <= 200; pos = crashNext(pos) {
		mustAppend(t, l, pos, crashBatch(pos))
	}
	if err := l.DB().Flush(); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	sort.Strings(names)
	path := names[len(names)-1]
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = l.Verify() // reads every block
	info := pebble.ExtractDataCorruptionInfo(err)
	if !pebble.IsCorruptionError(err) || info == nil || info.Path != path {
		t.Fatalf("Verify after a flipped byte in %s: %v; want a corruption error naming the file", path, err)
	}
}
