package raft

import (
	"bufio"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
	"github.com/accrual/accrual/raft/codec"
	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
)

// newBareFSM is a node's state machine without Raft: a ledger in a
// temporary directory, applies driven by applyEntry.
func newBareFSM(t testing.TB, p *engine.Program) *fsm {
	t.Helper()
	led, err := ledger.Open(filepath.Join(t.TempDir(), "ledger"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := newFSM(p, led, hclog.NewNullLogger(), func() bool { return false }, 0)
	t.Cleanup(func() {
		f.close()
		led.Close()
	})
	return f
}

// applyEntry applies cmds as one command entry at index, as the batcher
// encodes them.
func applyEntry(t testing.TB, f *fsm, index uint64, cmds []engine.Command) {
	t.Helper()
	payload := binary.AppendUvarint(nil, uint64(len(cmds)))
	for i := range cmds {
		payload = engine.AppendBinary(payload, &cmds[i])
	}
	entry := codec.Compress([]byte{entryCommands}, payload)
	resp := f.ApplyBatch([]*hraft.Log{{Index: index, Type: hraft.LogCommand, Data: entry}})
	if r, ok := resp[0].(*entryResponse); ok && r.err != nil {
		t.Fatalf("apply log %d: %v", index, r.err)
	}
}

// fillMembers applies n purchases, one new member each, in entries of
// 4096 commands from index 1; it returns the last index.
func fillMembers(t testing.TB, f *fsm, p *engine.Program, n int) uint64 {
	t.Helper()
	index := uint64(0)
	for from := 0; from < n; from += 4096 {
		index++
		applyEntry(t, f, index, purchases(t, p, "m", from, min(4096, n-from)))
	}
	return index
}

// persistedSnapshot takes a snapshot of f and persists it to a file, as
// hraft does locally (engine state only); it returns the file's path.
func persistedSnapshot(t testing.TB, f *fsm) string {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := newFileSink(t)
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	return sink.Name()
}

// fileSink is a snapshot sink writing one file, as hraft's file store's.
type fileSink struct {
	*os.File
	canceled bool
}

func newFileSink(t testing.TB) *fileSink {
	t.Helper()
	fh, err := os.Create(filepath.Join(t.TempDir(), "snap"))
	if err != nil {
		t.Fatal(err)
	}
	return &fileSink{File: fh}
}

func (s *fileSink) ID() string    { return "test" }
func (s *fileSink) Cancel() error { s.canceled = true; return s.File.Close() }

// procStatusKiB reads a field of /proc/self/status (VmRSS, VmHWM) in KiB.
func procStatusKiB(t testing.TB, field string) int64 {
	t.Helper()
	fh, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kib
		}
	}
	t.Skipf("no %s in /proc/self/status", field)
	return 0
}

// resetPeakRSS makes VmHWM start again from the current RSS.
func resetPeakRSS(t testing.TB) {
	t.Helper()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset the peak RSS: %v", err)
	}
}
