package raft

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// fakeFree is a free-space function the test sets.
type fakeFree struct {
	bytes uint64
	err   error
}

func (f *fakeFree) read(string) (uint64, error) { return f.bytes, f.err }

func TestDiskGuardHysteresis(t *testing.T) {
	const reserve = 64 << 20
	f := &fakeFree{bytes: 1 << 30}
	g := newDiskGuard("/data", reserve, f.read, hclog.NewNullLogger())
	now := time.Unix(0, 0)
	step := func(free uint64, wantRefusing bool) {
		t.Helper()
		f.bytes = free
		now = now.Add(time.Second)
		g.poll(now)
		err := g.admit()
		if (err != nil) != wantRefusing {
			t.Fatalf("free %d: admit = %v, want refusing %v", free, err, wantRefusing)
		}
		if got := g.freeBytes.Load(); got != free {
			t.Fatalf("free bytes gauge %d, want %d", got, free)
		}
	}
	step(1<<30, false)
	step(reserve, false)  // at the reserve: still accepted
	step(reserve-1, true) // below it: refused
	// Above the reserve but below reserve + reserve/8: still refused.
	step(reserve+1, true)
	step(reserve+reserve/8-1, true)
	step(reserve+reserve/8, false)
	step(reserve+1, false) // dropping again, but not below the reserve
	step(reserve/2, true)

	// A failed read keeps the state and the last figure.
	f.err = errors.New("statfs: input/output error")
	f.bytes = 1 << 30
	now = now.Add(time.Second)
	g.poll(now)
	if g.admit() == nil || g.freeBytes.Load() != reserve/2 {
		t.Fatalf("a failed read changed the guard: refusing=%v free=%d", g.refusing.Load(), g.freeBytes.Load())
	}

	err := g.admit()
	var df *DiskFullError
	if !errors.Is(err, ErrDiskFull) || !errors.As(err, &df) {
		t.Fatalf("admit error %T %v", err, err)
	}
	if df.Dir != "/data" || df.FreeBytes != reserve/2 || df.ReserveBytes != reserve || df.ResumeBytes != reserve+reserve/8 {
		t.Fatalf("error fields %+v", *df)
	}
	for _, want := range []string{"/data", "33554432 bytes free", "67108864 bytes", "75497472 bytes", "reads still work"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("message %q lacks %q", err.Error(), want)
		}
	}
}

// TestSubmitRefusedWhileDiskFull: a node short of space refuses commands and
// program changes before they enter the log (the ids stay free), serves
// reads, and accepts the same commands once space is back.
func TestSubmitRefusedWhileDiskFull(t *testing.T) {
	p := loadProgram(t, "club")
	cfg := testConfig(t, "n1", p, true)
	cfg.DiskReserveBytes = 64 << 20
	cfg.DiskPollInterval = time.Hour // the test polls by hand
	n := startNode(t, cfg)
	defer n.Close()
	waitLeader(t, n)
	f := &fakeFree{bytes: 1 << 30}
	n.disk.free = f.read

	if _, err := n.Submit(context.Background(), purchases(t, p, "d", 0, 10)); err != nil {
		t.Fatal(err)
	}
	f.bytes = 1 << 20
	n.disk.poll(time.Now())
	before := n.AppliedIndex()
	cmds := purchases(t, p, "d", 10, 10)
	if _, err := n.Submit(context.Background(), cmds); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("submit on a full disk: %v", err)
	}
	if err := n.SetProgram([]byte("{}"), 0); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("program change on a full disk: %v", err)
	}
	if s := n.Status(); !s.Disk.WritesRefused || s.Disk.FreeBytes != 1<<20 || s.Disk.ReserveBytes != 64<<20 || s.Queued != 0 {
		t.Fatalf("status on a full disk: %+v", s)
	}
	if _, _, ok, err := n.Member("Md0", Linearizable); err != nil || !ok {
		t.Fatalf("read on a full disk: ok=%v err=%v", ok, err)
	}
	if got := n.AppliedIndex(); got != before {
		t.Fatalf("applied index moved from %d to %d while refusing", before, got)
	}

	f.bytes = 1 << 30
	n.disk.poll(time.Now())
	res, err := n.Submit(context.Background(), cmds)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range splitLines(res) {
		if strings.Contains(string(line), `"duplicate":true`) || !strings.Contains(string(line), `"status":"ok"`) {
			t.Fatalf("refused command %d was not fresh after space returned: %s", i, line)
		}
	}
	if n.Status().Disk.WritesRefused {
		t.Fatal("still refusing after space returned")
	}
}
