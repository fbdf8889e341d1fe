package faultinject

// Disk corruption, for the corrupted-disk tests and the chaos fault kind
// "corrupt" (docs/RELIABILITY.md, "Corrupted disks"). Every flip is
// deterministic and lands in bytes a checksum covers, so a test that does
// not see the node notice has found a missing check, not bad luck:
//
//   - a Pebble table (the Raft log, the ledger): the store is flushed first
//     (its entries leave the WAL for an sstable), then one byte of the first
//     data block of the newest table is flipped. Data blocks start at offset
//     0 and carry a CRC in their trailer, checked on every read from disk.
//   - a Pebble WAL (the Raft log, the ledger, left unflushed): one byte in
//     the second 32 KiB block of the newest WAL, when later blocks follow:
//     their sync chunks tell Pebble's replay that the damaged chunk had
//     been synced, so it refuses to open rather than drop the rest as a
//     torn tail.
//   - a snapshot: one byte in the middle of state.bin, covered by the CRC64
//     that hashicorp/raft keeps in meta.json.
//   - the member record (DATA/cluster-members): one byte of the first id,
//     covered by the file's crc32c line.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cockroachdb/pebble/v2"
)

// FileKind names a kind of file in a node's data directory.
type FileKind string

// The file kinds Corrupt knows.
const (
	RaftLogTable FileKind = "raft-log-table" // DATA/raft, an sstable
	RaftLogWAL   FileKind = "raft-log-wal"   // DATA/raft, the WAL
	LedgerTable  FileKind = "ledger-table"   // DATA/ledger, an sstable
	LedgerWAL    FileKind = "ledger-wal"     // DATA/ledger, the WAL
	Snapshot     FileKind = "snapshot"       // DATA/snapshots/snapshots/<newest>/state.bin
	Members      FileKind = "members"        // DATA/cluster-members
)

// FileKinds lists every kind, in a fixed order (the chaos fault cycles
// through it).
var FileKinds = []FileKind{RaftLogTable, RaftLogWAL, LedgerTable, LedgerWAL, Snapshot, Members}

// tableDataOffset is an offset inside an sstable's first data block.
const tableDataOffset = 8

// walBlockBytes is the size of a Pebble WAL block; walDamageOffset lies in
// the second block, so the first WAL chunk (the header Pebble checks
// first) is intact and synced chunks in later blocks can vouch for it.
const (
	walBlockBytes   = 32 << 10
	walDamageOffset = walBlockBytes + 1000
)

// Corrupt flips one byte of the kind's file in the data directory of a
// stopped node and returns the file's path.
func Corrupt(dataDir string, kind FileKind) (string, error) {
	switch kind {
	case RaftLogTable, LedgerTable:
		dir := filepath.Join(dataDir, storeDir(kind))
		if err := flush(dir); err != nil {
			return "", err
		}
		path, err := newest(dir, ".sst")
		if err != nil {
			return "", err
		}
		return path, flipAt(path, tableDataOffset)
	case RaftLogWAL, LedgerWAL:
		path, err := newest(filepath.Join(dataDir, storeDir(kind)), ".log")
		if err != nil {
			return "", err
		}
		if info, err := os.Stat(path); err != nil || info.Size() < 2*walBlockBytes+walBlockBytes/2 {
			return "", fmt.Errorf("faultinject: %s is too short for a damage Pebble can tell from a torn tail (%v)", path, err)
		}
		return path, flipAt(path, walDamageOffset)
	case Snapshot:
		path, err := newestSnapshot(dataDir)
		if err != nil {
			return "", err
		}
		return path, flipAt(path, -1)
	case Members:
		path := filepath.Join(dataDir, "cluster-members")
		return path, flipAt(path, 0)
	}
	return "", fmt.Errorf("faultinject: unknown file kind %q", kind)
}

func storeDir(kind FileKind) string {
	if kind == RaftLogTable || kind == RaftLogWAL {
		return "raft"
	}
	return "ledger"
}

// flush opens the Pebble store in dir and flushes its memtable into an
// sstable. Default options open either store: neither uses a custom
// comparer or merger.
func flush(dir string) error {
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietPebble{}})
	if err != nil {
		return fmt.Errorf("faultinject: open %s: %w", dir, err)
	}
	return errors.Join(db.Flush(), db.Close())
}

// newest is the file of dir with the suffix and the highest file number
// (Pebble numbers files in creation order, zero-padded).
func newest(dir, suffix string) (string, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var names []string
	for _, e := range es {
		if strings.HasSuffix(e.Name(), suffix) {
			info, err := e.Info()
			if err == nil && info.Size() > tableDataOffset {
				names = append(names, e.Name())
			}
		}
	}
	if len(names) == 0 {
		return "", fmt.Errorf("faultinject: no non-empty *%s file in %s", suffix, dir)
	}
	sort.Strings(names)
	return filepath.Join(dir, names[len(names)-1]), nil
}

// newestSnapshot is state.bin of the newest snapshot (hashicorp/raft names
// them term-index-millis: the highest index is the newest).
func newestSnapshot(dataDir string) (string, error) {
	dir := filepath.Join(dataDir, "snapshots", "snapshots")
	es, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	best, bestIndex := "", int64(-1)
	for _, e := range es {
		var term, index, ms int64
		if _, err := fmt.Sscanf(e.Name(), "%d-%d-%d", &term, &index, &ms); err == nil && e.IsDir() && index > bestIndex {
			best, bestIndex = e.Name(), index
		}
	}
	if best == "" {
		return "", fmt.Errorf("faultinject: no snapshot in %s", dir)
	}
	return filepath.Join(dir, best, "state.bin"), nil
}

// flipAt inverts the byte at off (-1: the middle of the file).
func flipAt(path string, off int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if off < 0 {
		off = info.Size() / 2
	}
	if off >= info.Size() {
		return fmt.Errorf("faultinject: %s has %d bytes, cannot flip byte %d", path, info.Size(), off)
	}
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		return err
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		return err
	}
	return f.Sync()
}

// quietPebble drops Pebble's messages while flush opens a store.
type quietPebble struct{}

func (quietPebble) Infof(string, ...any)  {}
func (quietPebble) Errorf(string, ...any) {}
func (quietPebble) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
