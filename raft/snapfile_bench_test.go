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
// purchase: the apply pause (Snapshot, under the apply lock), Persist, the
// peak RSS over both against the RSS before, and a restart's Restore of
// the persisted snapshot into an empty state machine (a restart) with the
// RSS its peak adds to the process (which still holds the first), and a
// follower's install of the same snapshot over the live state, its peak
// RSS against the steady one.
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
		runtime.GC()
		debug.FreeOSMemory()
		resetPeakRSS(b)
		baseKiB := procStatusKiB(b, "VmRSS")
		g := newBareFSM(b, p)
		rc, err := os.Open(sink.Name())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t3, c3 := time.Now(), processCPU(b)
		if err := g.Restore(rc); err != nil {
			b.Fatal(err)
		}
		restore += time.Since(t3)
		restoreCPU += processCPU(b) - c3

		// A follower's install: the same snapshot over the live state.
		b.StopTimer()
		g = nil
		runtime.GC()
		debug.FreeOSMemory()
		resetPeakRSS(b)
		if rc, err = os.Open(sink.Name()); err != nil {
			b.Fatal(err)
		}
		if err := f.Restore(rc); err != nil {
			b.Fatal(err)
		}
		installPeakKiB = max(installPeakKiB, procStatusKiB(b, "VmHWM"))
		b.StartTimer()
		restorePeakKiB = max(restorePeakKiB, procStatusKiB(b, "VmHWM")-baseKiB)
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
	b.ReportMetric(float64(installPeakKiB)/float64(steadyKiB), "install-peak/steady")
	b.ReportMetric(float64(sizeBytes)/(1<<20), "snap-MiB")
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
