package raft

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// BenchmarkSnapshotMembers measures a snapshot of an engine of
// ACCRUAL_SNAP_MEMBERS members (default 20000), one new member per
// purchase: the apply pause (Snapshot, under the apply lock) in wall and
// process CPU time, Persist, the peak RSS over both against the RSS
// before (after a GC: the live state), a follower's install of the
// snapshot over the live state with its peak RSS against the same, and a
// restart's Restore into an empty state machine with the RSS its peak adds
// to the process (which still holds the first).
//
//	ACCRUAL_SNAP_MEMBERS=2000000 go test -run '^$' -bench SnapshotMembers -benchtime 1x ./raft
func BenchmarkSnapshotMembers(b *testing.B) {
	members := 20000
	if s := os.Getenv("ACCRUAL_SNAP_MEMBERS"); s != "" {
		members, _ = strconv.Atoi(s)
	}
	p := loadProgram(b, "coalition")
	f := newBareFSM(b, p)
	fillMembers(b, f, p, members)
	f.lw.drain()
	runtime.GC()
	debug.FreeOSMemory()
	steadyKiB := procStatusKiB(b, "VmRSS")
	b.ResetTimer()
	var pause, persist, restore, pauseCPU, restoreCPU time.Duration
	var peakKiB, restorePeakKiB, installPeakKiB, sizeBytes int64
	for range b.N {
		resetPeakRSS(b)
		t0, c0 := time.Now(), processCPU(b)
		snap, err := f.Snapshot()
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		pauseCPU += processCPU(b) - c0
		sink := newFileSink(b)
		if err := snap.Persist(sink); err != nil {
			b.Fatal(err)
		}
		snap.Release()
		t2 := time.Now()
		peakKiB = max(peakKiB, procStatusKiB(b, "VmHWM"))
		pause, persist = pause+t1.Sub(t0), persist+t2.Sub(t1)
		st, _ := os.Stat(sink.Name())
		sizeBytes = st.Size()

		b.StopTimer()
		// A follower's install: the same snapshot over the live state.
		installPeakKiB = max(installPeakKiB, restoreFile(b, f, sink.Name()))
		// A restart: into an empty state machine.
		g := newBareFSM(b, p)
		b.StartTimer()
		t3, c3 := time.Now(), processCPU(b)
		restorePeakKiB = max(restorePeakKiB, restoreFile(b, g, sink.Name()))
		restore += time.Since(t3)
		restoreCPU += processCPU(b) - c3
	}
	n := float64(b.N)
	b.ReportMetric(pause.Seconds()/n*1000, "pause-ms")
	b.ReportMetric(float64(members)*n/pause.Seconds(), "members/s")
	b.ReportMetric(pauseCPU.Seconds()/n*1000, "pause-cpu-ms")
	b.ReportMetric(persist.Seconds()/n*1000, "persist-ms")
	b.ReportMetric(restoreCPU.Seconds()/n*1000, "restore-cpu-ms")
	b.ReportMetric(restore.Seconds()/n*1000, "restore-ms")
	b.ReportMetric(float64(steadyKiB)/1024, "steady-MiB")
	b.ReportMetric(float64(peakKiB)/1024, "peak-MiB")
	b.ReportMetric(float64(peakKiB)/float64(steadyKiB), "peak/steady")
	b.ReportMetric(float64(restorePeakKiB)/1024, "restore-added-MiB")
	b.ReportMetric(float64(installPeakKiB+steadyKiB)/float64(steadyKiB), "install-peak/steady")
	b.ReportMetric(float64(sizeBytes)/(1<<20), "snap-MiB")
}

// restoreFile restores f from the snapshot file at path after a GC and
// returns how much the peak RSS rose over the RSS before, in KiB.
func restoreFile(b *testing.B, f *fsm, path string) int64 {
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS(b)
	baseKiB := procStatusKiB(b, "VmRSS")
	rc, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Restore(rc); err != nil {
		b.Fatal(err)
	}
	return procStatusKiB(b, "VmHWM") - baseKiB
}

// processCPU is the process's user and system CPU time so far (the
// machine is shared: CPU time is steadier than wall time).
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
