package raft

import (
	"fmt"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
)

// DefaultDiskReserveBytes is the free space below which a node refuses new
// commands: room for what is already accepted and for what the stores write
// by themselves after the last command. Pebble preallocates each new WAL to
// 110% of its memtable (Raft log 32 MiB → 35 MiB, ledger 64 MiB → 70 MiB)
// and a memtable flush writes an sstable of up to the memtable's size, so a
// rotation of both stores needs ≈ 200 MiB; the rest covers the queue
// (MaxQueue commands, ≈ 6 MiB encoded) and a snapshot being written while
// the previous one is kept (its size grows with the state: members, ids).
const DefaultDiskReserveBytes = 256 << 20

// diskResumeFraction: writes are accepted again once the free space is
// above reserve + reserve/diskResumeFraction, so a node hovering at the
// reserve does not flip between refusing and accepting on every poll.
const diskResumeFraction = 8

// diskLogEvery is how often a node still short of space says so again.
const diskLogEvery = time.Minute

// diskGuard watches the free space of the filesystem holding the data
// directory. One goroutine polls it; Submit only loads an atomic.
type diskGuard struct {
	dir          string
	reserveBytes uint64
	resumeBytes  uint64
	free         func(dir string) (uint64, error)
	log          hclog.Logger

	freeBytes atomic.Uint64
	refusing  atomic.Bool
	loggedAt  time.Time // poller only
}

func newDiskGuard(dir string, reserveBytes uint64, free func(string) (uint64, error), log hclog.Logger) *diskGuard {
	return &diskGuard{dir: dir, reserveBytes: reserveBytes,
		resumeBytes: reserveBytes + reserveBytes/diskResumeFraction, free: free, log: log}
}

// statfsFreeBytes is the space an unprivileged writer may still use (Bavail:
// a filesystem's root reserve does not count, so the guard errs early).
func statfsFreeBytes(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// poll reads the free space once and moves between accepting and refusing.
// A failed read keeps the previous state: it says nothing about space.
func (g *diskGuard) poll(now time.Time) {
	free, err := g.free(g.dir)
	if err != nil {
		if now.Sub(g.loggedAt) >= diskLogEvery {
			g.loggedAt = now
			g.log.Warn("disk guard: cannot read free space", "dir", g.dir, "err", err)
		}
		return
	}
	g.freeBytes.Store(free)
	refusing := g.refusing.Load()
	switch {
	case !refusing && free < g.reserveBytes:
		g.refusing.Store(true)
		g.loggedAt = now
		g.log.Error("disk nearly full: refusing new commands until space is freed (reads still served)",
			"dir", g.dir, "free_bytes", free, "reserve_bytes", g.reserveBytes, "resume_bytes", g.resumeBytes)
	case refusing && free >= g.resumeBytes:
		g.refusing.Store(false)
		g.log.Warn("disk space back: accepting commands again", "dir", g.dir, "free_bytes", free)
	case refusing && now.Sub(g.loggedAt) >= diskLogEvery:
		g.loggedAt = now
		g.log.Error("disk still nearly full: refusing new commands", "dir", g.dir, "free_bytes", free,
			"resume_bytes", g.resumeBytes)
	}
}

func (g *diskGuard) run(stop <-chan struct{}, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			g.poll(now)
		}
	}
}

// admit returns nil while writes are accepted, else a *DiskFullError.
// A nil guard (turned off) admits everything.
func (g *diskGuard) admit() error {
	if g == nil || !g.refusing.Load() {
		return nil
	}
	return &DiskFullError{Dir: g.dir, FreeBytes: g.freeBytes.Load(), ReserveBytes: g.reserveBytes, ResumeBytes: g.resumeBytes}
}

// DiskFullError says the node refuses new commands because the data
// directory's filesystem has less free space than the reserve. It goes away
// by itself once FreeBytes reaches ResumeBytes.
type DiskFullError struct {
	Dir          string
	FreeBytes    uint64
	ReserveBytes uint64
	ResumeBytes  uint64
}

func (e *DiskFullError) Error() string {
	return fmt.Sprintf("disk full: the data directory %s has %d bytes free (%s), below the %d bytes (%s) a node keeps in reserve; "+
		"writes are refused until %d bytes (%s) are free, reads still work; retry with the same ids",
		e.Dir, e.FreeBytes, mib(e.FreeBytes), e.ReserveBytes, mib(e.ReserveBytes), e.ResumeBytes, mib(e.ResumeBytes))
}

// Is makes errors.Is(err, ErrDiskFull) true.
func (e *DiskFullError) Is(target error) bool { return target == ErrDiskFull }

// DiskFull marks the error for the API (HTTP 507 disk_full).
func (e *DiskFullError) DiskFull() bool { return true }

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// DiskStatus is the disk guard's view of the data directory.
type DiskStatus struct {
	FreeBytes     uint64 // as of the last poll
	ReserveBytes  uint64 // 0: the guard is off
	WritesRefused bool
}

// Disk returns the disk guard's latest figures.
func (n *Node) Disk() DiskStatus {
	if n.disk == nil {
		return DiskStatus{}
	}
	return DiskStatus{FreeBytes: n.disk.freeBytes.Load(), ReserveBytes: n.disk.reserveBytes, WritesRefused: n.disk.refusing.Load()}
}
