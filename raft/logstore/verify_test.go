package logstore

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"
)

// flipMiddleOfNewestTable flushes s, closes it, and inverts the byte in the
// middle of its newest sstable: with many data blocks (4 KiB each), the
// middle of the file is inside one, past the first (which Open reads).
func flipMiddleOfNewestTable(t *testing.T, s *Store, dir string) string {
	t.Helper()
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	names, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(names) == 0 {
		t.Fatal("no sstable after a flush")
	}
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
	return path
}

// Rule: a damaged block of the log is found by Verify at a node's start,
// not at the first apply that reads the entry, and the error names the
// file.
func TestVerifyFindsADamagedBlockAndNamesTheFile(t *testing.T) {
	s, dir := newT(t)
	logs := make([]*raft.Log, 400)
	for i := range logs {
		logs[i] = mkLog(uint64(i+1), 1)
		logs[i].Data = []byte(strings.Repeat("entry payload that does not compress away ", 20) + string(rune('a'+i%26)))
	}
	if err := s.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Verify(); err != nil || n != len(logs) {
		t.Fatalf("Verify of a sound store: %d entries, %v", n, err)
	}
	path := flipMiddleOfNewestTable(t, s, dir)

	s = openT(t, dir) // opens: the damaged block is not one Open reads
	defer s.Close()
	_, err := s.Verify()
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Verify after a flipped byte in %s: %v; want ErrCorrupt naming the file", path, err)
	}
}

// Rule: a flipped byte in the WAL that synced writes follow is refused at
// open as corruption; it is not taken for a torn tail, which would drop
// the acknowledged entries after it (and did, before the store wrote WAL
// sync chunks).
func TestDamagedWALIsRefusedAtOpen(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	for i := uint64(1); i <= 300; i++ {
		l := mkLog(i, 1)
		l.Data = make([]byte, 500)
		if err := s.StoreLog(l); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	names, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	sort.Strings(names)
	path := names[len(names)-1]
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[40000] ^= 0xff // in the second 32 KiB block; three more follow
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err == nil {
		first, last := firstLast(t, s)
		s.Close()
		t.Fatalf("Open after a flipped WAL byte: no error, log %d..%d of 1..300", first, last)
	}
	if !pebble.IsCorruptionError(err) {
		t.Fatalf("Open after a flipped WAL byte: %v; want a corruption error", err)
	}
}

// Rule: a block damaged while the store is open is caught by the next read
// of it from disk: GetLog fails with ErrCorrupt naming the file, and the
// process goes on (Pebble's default was a Fatalf that exits it).
func TestBlockDamagedWhileOpenFailsTheRead(t *testing.T) {
	s, dir := newT(t)
	logs := make([]*raft.Log, 400)
	for i := range logs {
		logs[i] = mkLog(uint64(i+1), 1)
		logs[i].Data = []byte(strings.Repeat("entry payload that does not compress away ", 20) + string(rune('a'+i%26)))
	}
	if err := s.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Flush(); err != nil {
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
	var failed error
	var l raft.Log
	for i := uint64(1); i <= uint64(len(logs)) && failed == nil; i++ {
		failed = s.GetLog(i, &l)
	}
	if !errors.Is(failed, ErrCorrupt) || !strings.Contains(failed.Error(), path) {
		t.Fatalf("reading every entry after a flipped byte in %s: %v; want ErrCorrupt naming the file", path, failed)
	}
}
