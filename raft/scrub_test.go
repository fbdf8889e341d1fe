package raft

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// scrubNode is a leader holding some applied purchases, its ledger and
// Raft log flushed to tables, its background scrub off (the tests run
// passes themselves), and its damage reports in damaged.
func scrubNode(t testing.TB) (*testNode, chan *CorruptDataError) {
	t.Helper()
	p := loadProgram(t, "club")
	cfg := testConfig(t, "n1", p, true)
	cfg.ScrubBytesPerS = -1
	cfg.DiskReserveBytes = -1 // these tests write little, whatever the machine has free
	damaged := make(chan *CorruptDataError, 8)
	cfg.OnCorruptData = func(e *CorruptDataError) { damaged <- e }
	n := startNode(t, cfg)
	t.Cleanup(func() { n.Close() })
	waitLeader(t, n)
	for i := range 4 {
		if _, err := n.Submit(context.Background(), purchases(t, p, "s", i*500, 500)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.CurrentLedger(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(n.Ledger().DB().Flush(), n.logs.DB().Flush()); err != nil {
		t.Fatal(err)
	}
	return n, damaged
}

// newestTable is the store's live table with the highest file number.
func newestTable(t *testing.T, st scrubStore) string {
	t.Helper()
	tables, err := liveTables(st)
	if err != nil || len(tables) == 0 {
		t.Fatalf("tables of %s: %v %v", st.dir, tables, err)
	}
	return slices.MaxFunc(tables, func(a, b scrubTable) int { return strings.Compare(a.path, b.path) }).path
}

// flipByte inverts the byte at off, as a failing disk would.
func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// A ledger table damaged while the node runs, in its first data block
// (read by nothing: not by the node's reads, which are served from its
// views, nor by Pebble, which does not read back what it flushed), is
// found by the next pass, which names the file and stops the node.
func TestScrubFindsATableDamagedWhileTheNodeRuns(t *testing.T) {
	n, damaged := scrubNode(t)
	s := n.newScrubber(0, nil)
	path := newestTable(t, s.stores[0]) // the ledger
	flipByte(t, path, 8)                // inside the first data block, under its CRC
	if _, _, ok, err := n.Member("Ms0", Linearizable); !ok || err != nil {
		t.Fatalf("a read after the damage: ok=%v err=%v", ok, err)
	}
	select {
	case e := <-damaged:
		t.Fatalf("damage reported before any scrub: %v", e)
	default:
	}
	p, err := s.pass()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.damaged, []string{path}) || s.damaged.Load() != 1 {
		t.Fatalf("pass found %v (%d counted), want %s", p.damaged, s.damaged.Load(), path)
	}
	select {
	case e := <-damaged:
		if e.File != path || !errors.Is(e, ErrCorruptData) || !strings.Contains(e.Error(), path+" is damaged") ||
			!strings.Contains(e.Error(), "accrual cluster remove --id n1") {
			t.Fatalf("report: %v", e)
		}
	default:
		t.Fatal("the damaged table was not reported to OnCorruptData")
	}
}

// A pass over sound stores reads every table of both, whole, and reports
// nothing.
func TestScrubPassesSoundStores(t *testing.T) {
	n, damaged := scrubNode(t)
	s := n.newScrubber(0, nil)
	var tables int
	var size int64
	for _, st := range s.stores {
		paths, err := liveTables(st)
		if err != nil || len(paths) == 0 {
			t.Fatalf("%s: %d tables, %v", st.dir, len(paths), err)
		}
		for _, tt := range paths {
			info, err := os.Stat(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			size += info.Size()
		}
		tables += len(paths)
	}
	p, err := s.pass()
	if err != nil || len(p.damaged) != 0 || len(damaged) != 0 {
		t.Fatalf("sound stores: damaged %v, reported %d, err %v", p.damaged, len(damaged), err)
	}
	// Every block is read; only the footer's few bytes (and the gaps
	// between blocks, none) may be left out.
	if p.tables != tables || p.bytes < uint64(size)-uint64(tables)*128 || s.passes.Load() != 1 {
		t.Fatalf("pass read %d tables, %d bytes, %d passes; the stores have %d tables, %d bytes",
			p.tables, p.bytes, s.passes.Load(), tables, size)
	}
}

// A table a compaction deleted after the listing is skipped, not damage.
func TestScrubSkipsADeletedTable(t *testing.T) {
	s := &scrubber{}
	if err := s.checkTable(scrubTable{path: filepath.Join(t.TempDir(), "000042.sst")}); err != nil {
		t.Fatalf("a deleted table: %v", err)
	}
}

// The background scrub waits scrubMinPass, then makes pass after pass,
// each at most one a scrubMinPass, until its sleep says the node closes.
func TestScrubRunsPassAfterPassUntilStopped(t *testing.T) {
	n, damaged := scrubNode(t)
	var waits []time.Duration
	s := n.newScrubber(0, func(d time.Duration) bool {
		waits = append(waits, d)
		return len(waits) <= 3
	})
	s.run()
	if s.passes.Load() != 3 || len(waits) != 4 || waits[0] != scrubMinPass || len(damaged) != 0 {
		t.Fatalf("%d passes, waits %v, %d damaged", s.passes.Load(), waits, len(damaged))
	}
	for _, w := range waits[1:] {
		if w <= 0 || w > scrubMinPass {
			t.Fatalf("waits %v: each between passes is what is left of scrubMinPass", waits)
		}
	}
}

// A node closing in the middle of a pass ends it: not as damage, not as
// a read error of the table being read.
func TestScrubStopsMidPassWithoutAReport(t *testing.T) {
	n, damaged := scrubNode(t)
	s := n.newScrubber(1<<10, func(time.Duration) bool { return false })
	p, err := s.pass()
	if !errors.Is(err, errScrubStopped) || len(p.damaged) != 0 || len(damaged) != 0 || s.passes.Load() != 0 {
		t.Fatalf("pass cut by Close: err %v, damaged %v (%d reported), %d passes", err, p.damaged, len(damaged), s.passes.Load())
	}
}

// fakeTime is a clock that only moves when the scrub sleeps (or a read
// is made slow), so the rate is checked in bytes and sleeps, not timed.
type fakeTime struct {
	now    time.Time
	slept  time.Duration
	sleeps int
	onStep func()
}

func (f *fakeTime) clock() time.Time { return f.now }
func (f *fakeTime) sleep(d time.Duration) bool {
	f.now = f.now.Add(d)
	f.slept += d
	f.sleeps++
	if f.onStep != nil {
		f.onStep()
	}
	return true
}

// A whole pass keeps to its rate: after every sleep the bytes read are
// at most the rate times the time gone by, and at the end at most one
// scrubMinSleep's worth more.
func TestScrubKeepsToItsRate(t *testing.T) {
	n, _ := scrubNode(t)
	const rate = 256 << 10
	ft := &fakeTime{now: time.Unix(1e9, 0)}
	s := n.newScrubber(rate, ft.sleep)
	s.pace.now = ft.clock
	start := ft.now
	ft.onStep = func() {
		if read, allowed := float64(s.bytes.Load()), rate*ft.now.Sub(start).Seconds(); read > allowed+1 {
			t.Fatalf("after %d sleeps: %.0f bytes read in %v, the rate allows %.0f", ft.sleeps, read, ft.now.Sub(start), allowed)
		}
	}
	p, err := s.pass()
	if err != nil {
		t.Fatal(err)
	}
	allowed := rate * (ft.now.Sub(start) + scrubMinSleep).Seconds()
	if ft.sleeps == 0 || float64(p.bytes) > allowed {
		t.Fatalf("%d bytes in %v (%d sleeps), the rate allows %.0f", p.bytes, ft.now.Sub(start), ft.sleeps, allowed)
	}
}

// The pacer sleeps once it is scrubMinSleep ahead of its rate, never
// when unpaced, and saves no time up from a slow read.
func TestPacerSleepsToItsRate(t *testing.T) {
	const kib = 1 << 10
	for _, tc := range []struct {
		name      string
		bytesPerS float64
		reads     []int
		slowAfter int           // the read after which the clock jumps by slow (-1: none)
		slow      time.Duration // how long that read took
		wantSlept time.Duration
	}{
		{"unpaced never sleeps", 0, []int{64 * kib, 64 * kib}, -1, 0, 0},
		{"under scrubMinSleep ahead: no sleep yet", 1024 * kib, []int{16 * kib, 16 * kib}, -1, 0, 0},
		{"64 KiB at 1 MiB/s sleeps 62.5 ms", 1024 * kib, []int{16 * kib, 16 * kib, 16 * kib, 16 * kib}, -1, 0, 62500 * time.Microsecond},
		{"a slow read is not saved up", 1024 * kib, []int{16 * kib, 64 * kib}, 0, time.Second, 62500 * time.Microsecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft := &fakeTime{now: time.Unix(1e9, 0)}
			p := pacer{bytesPerS: tc.bytesPerS, now: ft.clock, sleep: ft.sleep}
			for i, r := range tc.reads {
				if err := p.paid(r); err != nil {
					t.Fatal(err)
				}
				if i == tc.slowAfter {
					ft.now = ft.now.Add(tc.slow)
				}
			}
			if ft.slept != tc.wantSlept {
				t.Fatalf("slept %v, want %v", ft.slept, tc.wantSlept)
			}
		})
	}
}

// BenchmarkScrubPass: the CPU a pass costs per byte, unpaced, the tables
// in the page cache (what the default rate's share of a core is from).
// The ledger is compacted to its bottom level first: old history is
// there, zstd-compressed, the dearest to read.
func BenchmarkScrubPass(b *testing.B) {
	n, _ := scrubNode(b)
	if err := n.Ledger().DB().Compact(context.Background(), []byte{0}, []byte{0xff}, false); err != nil {
		b.Fatal(err)
	}
	s := n.newScrubber(0, nil)
	p, err := s.pass()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(p.bytes))
	b.ReportAllocs()
	before, passes := processCPU(b), 0
	for b.Loop() {
		if _, err := s.pass(); err != nil {
			b.Fatal(err)
		}
		passes++
	}
	// The process's CPU, not wall time: the machine is shared. It counts
	// the idle node's own goroutines too, so it errs high.
	cpu := processCPU(b) - before
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(uint64(passes)*p.bytes)*(1<<20)/1e6, "cpu-ms/MiB")
}
