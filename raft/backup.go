package raft

// Backups. An online backup is the leader's latest Raft snapshot as the
// leader sends it to a follower that fell behind (snapship.go): the
// engine's state at the snapshot's index, the program in force inside it,
// then the ledger's entries up to that index and its command records, read
// from one consistent view of the ledger. Taking it stalls applies only for
// as long as a snapshot does; the cluster keeps taking writes.
//
// File (version 1):
//
//	magic "ACRBAK1\n", uvarint index, uvarint term,
//	the snapshot as shipped (two zstd streams),
//	the SHA-256 of every byte before it (32 bytes).
//
// Restore checks the checksum over the whole file before it writes
// anything, then seeds a data directory from the snapshot (seed.go).

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
)

const backupMagic = "ACRBAK1\n"

// ErrBackupDamaged: a backup's checksum does not match its contents.
var ErrBackupDamaged = errors.New("raft: the backup is damaged")

// BackupInfo is where a backup stands: the Raft log index and term of the
// state it holds.
type BackupInfo struct {
	Index uint64
	Term  uint64
}

// Backup is an opened backup of the node's state, ready to be written.
type Backup struct {
	BackupInfo
	rc io.ReadCloser
}

// OpenBackup takes a snapshot of the leader's state now (or opens the
// latest one when nothing was applied since) with its ledger section.
// Only the leader takes backups: its state is the cluster's.
func (n *Node) OpenBackup() (*Backup, error) {
	if n.raft.State() != hraft.Leader {
		return nil, n.notLeader()
	}
	err := n.raft.Snapshot().Error()
	if err != nil && !errors.Is(err, hraft.ErrNothingNewToSnapshot) {
		return nil, fmt.Errorf("raft: backup: take a snapshot: %w", err)
	}
	// The latest snapshot is the one just taken, or a newer one; one the
	// store reaps (it keeps SnapshotRetain) between List and Open is
	// looked for again.
	for try := 0; ; try++ {
		metas, err := n.ship.List()
		if err != nil {
			return nil, err
		}
		if len(metas) == 0 {
			return nil, errors.New("raft: backup: the node has no snapshot (it has applied nothing yet)")
		}
		meta, rc, err := n.ship.openWithLedger(metas[0].ID)
		if errors.Is(err, fs.ErrNotExist) && try < 3 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("raft: backup: %w", err)
		}
		return &Backup{BackupInfo: BackupInfo{Index: meta.Index, Term: meta.Term}, rc: rc}, nil
	}
}

// WriteTo writes the backup file (see above) to w.
func (b *Backup) WriteTo(w io.Writer) (int64, error) {
	sum := sha256.New()
	hdr := binary.AppendUvarint([]byte(backupMagic), b.Index)
	hdr = binary.AppendUvarint(hdr, b.Term)
	mw := io.MultiWriter(w, sum)
	n, err := mw.Write(hdr)
	if err != nil {
		return int64(n), err
	}
	body, err := io.Copy(mw, b.rc)
	total := int64(n) + body
	if err != nil {
		return total, err
	}
	n, err = w.Write(sum.Sum(nil))
	return total + int64(n), err
}

// Close releases the snapshot.
func (b *Backup) Close() error { return b.rc.Close() }

// backupFile is a checked backup file, positioned after its header.
type backupFile struct {
	BackupInfo
	f    *os.File
	body int64 // bytes of the snapshot
}

// openBackupFile checks path's checksum and header; a file that is not a
// backup, or that changed since it was written, is refused.
func openBackupFile(path string) (*backupFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	b, err := checkBackup(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return b, nil
}

func checkBackup(f *os.File, path string) (*backupFile, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size() - sha256.Size
	if size < int64(len(backupMagic)) {
		return nil, fmt.Errorf("raft: %s is not an Accrual backup (%d bytes)", path, st.Size())
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, io.NewSectionReader(f, 0, size)); err != nil {
		return nil, err
	}
	want := make([]byte, sha256.Size)
	if _, err := f.ReadAt(want, size); err != nil {
		return nil, err
	}
	br := bufio.NewReader(io.NewSectionReader(f, 0, size))
	magic := make([]byte, len(backupMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != backupMagic {
		return nil, fmt.Errorf("raft: %s is not an Accrual backup (no %q at its start)", path, backupMagic[:7])
	}
	if got := sum.Sum(nil); !bytes.Equal(got, want) {
		return nil, fmt.Errorf("%w: %s: the SHA-256 of its contents is %x, the backup recorded %x; "+
			"nothing was restored, use another copy", ErrBackupDamaged, path, got[:8], want[:8])
	}
	b := &backupFile{f: f}
	if b.Index, err = binary.ReadUvarint(br); err == nil {
		b.Term, err = binary.ReadUvarint(br)
	}
	if err != nil {
		return nil, fmt.Errorf("raft: %s: bad header: %w", path, err)
	}
	hdr := int64(len(binary.AppendUvarint(binary.AppendUvarint([]byte(backupMagic), b.Index), b.Term)))
	if _, err := f.Seek(hdr, io.SeekStart); err != nil {
		return nil, err
	}
	b.body = size - hdr
	return b, nil
}

// CheckBackup checks the backup file at path: its header and its
// checksum (ErrBackupDamaged when they differ).
func CheckBackup(path string) (BackupInfo, error) {
	b, err := openBackupFile(path)
	if err != nil {
		return BackupInfo{}, err
	}
	b.f.Close()
	return b.BackupInfo, nil
}

// Restored is what RestoreDataDir wrote.
type Restored struct {
	BackupInfo
	Program []byte // the program in force at the backup's index
}

// RestoreDataDir checks the backup file at path and seeds dataDir from it
// for self (seed.go): the state, the ledger and the program at the
// backup's index, in a new cluster of one voter. A damaged backup is
// refused (ErrBackupDamaged) before anything is written.
func RestoreDataDir(dataDir string, self SeedNode, path string) (Restored, error) {
	b, err := openBackupFile(path)
	if err != nil {
		return Restored{}, err
	}
	defer b.f.Close()
	snaps, err := seedStores(dataDir)
	if err != nil {
		return Restored{}, err
	}
	led, err := ledger.Open(filepath.Join(dataDir, "ledger"), ledger.Options{})
	if err != nil {
		return Restored{}, err
	}
	defer led.Close()
	// The placeholder program is replaced by the snapshot's engine.
	f := newFSM(&engine.Program{}, led, hclog.NewNullLogger(), func() bool { return false }, 0)
	defer f.close()
	if err := f.Restore(io.NopCloser(io.LimitReader(b.f, b.body))); err != nil {
		return Restored{}, err
	}
	if e := f.fatal.Load(); e != nil {
		return Restored{}, *e
	}
	if got := f.applied.Load(); got != b.Index {
		return Restored{}, fmt.Errorf("raft: %s: the snapshot is at index %d, the header says %d", path, got, b.Index)
	}
	out := Restored{BackupInfo: b.BackupInfo, Program: f.eng.Program().Source}
	return out, seedFrom(dataDir, f, snaps, self)
}
