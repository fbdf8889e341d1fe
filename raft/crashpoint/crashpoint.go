// Package crashpoint kills the process with SIGKILL at a named point in the
// middle of an operation, so crash-recovery tests can land a kill -9 inside
// windows that random kills rarely hit (cmd/accrual
// TestCrashMidOperationLosesNoAcknowledgedCommand; docs/RELIABILITY.md,
// "Crash points").
//
// Armed only in fault mode, by the environment, once at start-up:
//
//	ACCRUAL_FAULTS=1 ACCRUAL_CRASH_AT=<point>[:<n>]
//
// kills the process the n-th time (default 1) the point is reached. The
// points:
//
//   - apply-batch: FSM.ApplyBatch, after a command entry was applied to the
//     engine, before the batch's ledger write and before the apply returns
//     (its callers are not answered).
//   - ledger-append: the ledger writer, with a batch's ledger entries and
//     command records built, before the one Pebble batch that stores them
//     is committed (the batch's callers may already have been answered).
//   - snapshot-write: FSM.Snapshot, under the apply lock, after the first
//     block of the engine's stream was written to the spool file (the
//     snapshot's uncompressed state, before Persist copies it into the
//     store).
//   - snapshot-persist: fsmSnapshot.Persist, after the ledger sync and part
//     of the zstd stream were written to the sink, before sink.Close.
//   - snapshot-install: FSM.Restore, after the engine's stream was decoded
//     from the snapshot, before the new state is installed (on a follower: hraft
//     already stored the received snapshot).
//   - snapshot-receive: a follower writing an InstallSnapshot's stream to
//     its snapshot store, after part of it, before sink.Close (a wrapper
//     of the store in raft/faultinject).
//   - log-compaction: logstore DeleteRange (hraft's compaction after a
//     snapshot, and its conflict truncation), after the range deletion was
//     built, before it is committed.
//
// Unarmed, At costs one predictable branch on a bool written once by init:
// no map lookup, no syscall, nothing on the hot path.
package crashpoint

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// Point names a crash point.
type Point uint8

// The crash points (see the package documentation for where each sits).
const (
	ApplyBatch Point = iota + 1
	SnapshotPersist
	SnapshotInstall
	SnapshotReceive
	LogCompaction
	LedgerAppend
	SnapshotWrite
	numPoints
)

var names = [numPoints]string{
	ApplyBatch:      "apply-batch",
	SnapshotPersist: "snapshot-persist",
	SnapshotInstall: "snapshot-install",
	SnapshotReceive: "snapshot-receive",
	LogCompaction:   "log-compaction",
	LedgerAppend:    "ledger-append",
	SnapshotWrite:   "snapshot-write",
}

func (p Point) String() string {
	if p == 0 || p >= numPoints {
		return "point(" + strconv.Itoa(int(p)) + ")"
	}
	return names[p]
}

// EnvVar is the environment variable that arms a crash point.
const EnvVar = "ACCRUAL_CRASH_AT"

var (
	armed     bool // written once by init, read-only afterwards
	target    Point
	remaining atomic.Int64 // hits of target left before the kill
	envErr    error
)

func init() {
	spec := os.Getenv(EnvVar)
	if spec == "" {
		return
	}
	if os.Getenv("ACCRUAL_FAULTS") != "1" {
		envErr = fmt.Errorf("crashpoint: %s=%q needs ACCRUAL_FAULTS=1 (crash points are for fault-injection tests only)", EnvVar, spec)
		return
	}
	p, n, err := Parse(spec)
	if err != nil {
		envErr = err
		return
	}
	target, armed = p, true
	remaining.Store(n)
}

// Parse reads "<point>[:<n>]": the point and the hit (1-based) that kills.
func Parse(spec string) (Point, int64, error) {
	name, count, hasCount := strings.Cut(spec, ":")
	n := int64(1)
	if hasCount {
		var err error
		if n, err = strconv.ParseInt(count, 10, 64); err != nil || n < 1 {
			return 0, 0, fmt.Errorf("crashpoint: %s=%q: the count after ':' must be a positive integer", EnvVar, spec)
		}
	}
	for p := ApplyBatch; p < numPoints; p++ {
		if names[p] == name {
			return p, n, nil
		}
	}
	return 0, 0, fmt.Errorf("crashpoint: %s=%q: unknown point %q (known: %s)", EnvVar, spec, name, strings.Join(names[1:], ", "))
}

// Err is the error of a malformed ACCRUAL_CRASH_AT, or of one set without
// ACCRUAL_FAULTS=1; nil otherwise. faultinject.FromEnv (so `accrual
// serve`) refuses to start on it, so a test cannot believe a point armed
// that is not.
func Err() error { return envErr }

// Armed reports whether a crash point is armed in this process.
func Armed() bool { return armed }

// Target is the armed point and the hits left before the kill.
func Target() (Point, int64) { return target, remaining.Load() }

// At kills the process with SIGKILL if p is the armed point and this is its
// n-th hit. Unarmed it returns after one branch.
func At(p Point) {
	if armed {
		hit(p)
	}
}

func hit(p Point) {
	if p != target || remaining.Add(-1) != 0 {
		return
	}
	fmt.Fprintf(os.Stderr, "crashpoint: SIGKILL at %s\n", p)
	if err := syscall.Kill(os.Getpid(), syscall.SIGKILL); err != nil {
		panic(errors.Join(errors.New("crashpoint: kill failed"), err))
	}
	// SIGKILL cannot be caught: this goroutine never returns into the
	// operation it interrupted, whatever the delivery delay.
	select {}
}
