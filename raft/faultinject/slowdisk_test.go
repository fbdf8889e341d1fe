package faultinject

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/accrual/accrual/raft"
	"github.com/accrual/accrual/raft/logstore"
	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
)

// slowDiskFixture is a real log store behind the slow-disk wrapper, with
// the faults file at file and every requested sleep recorded in slept.
type slowDiskFixture struct {
	file  string
	w     *watch
	store raft.RaftStore
	snaps hraft.SnapshotStore
	slept []time.Duration
}

func newSlowDiskFixture(t *testing.T, rules string) *slowDiskFixture {
	t.Helper()
	dir := t.TempDir()
	f := &slowDiskFixture{file: filepath.Join(dir, "faults.json")}
	f.setRules(t, rules)
	f.w = newWatch(f.file, hclog.NewNullLogger())
	f.w.sleep = func(d time.Duration) { f.slept = append(f.slept, d) }
	ls, err := logstore.Open(filepath.Join(dir, "raft"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ls.Close() })
	fs, err := hraft.NewFileSnapshotStore(filepath.Join(dir, "snapshots"), 1, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	f.store, f.snaps = f.w.slowRaftStore(ls), slowSnapshots{SnapshotStore: fs, w: f.w}
	return f
}

func (f *slowDiskFixture) setRules(t *testing.T, rules string) {
	t.Helper()
	if err := os.WriteFile(f.file, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	if f.w != nil {
		f.w.load()
	}
}

// writeAll runs every durable write the wrapper delays, and checks the
// writes reached the store.
func (f *slowDiskFixture) writeAll(t *testing.T) {
	t.Helper()
	if err := f.store.StoreLog(&hraft.Log{Index: 1, Term: 1, Type: hraft.LogCommand, Data: []byte("a")}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.StoreLogs([]*hraft.Log{{Index: 2, Term: 1, Data: []byte("b")}, {Index: 3, Term: 1, Data: []byte("c")}}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.DeleteRange(3, 3); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Set([]byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetUint64([]byte("term"), 7); err != nil {
		t.Fatal(err)
	}
	sink, err := f.snaps.Create(hraft.SnapshotVersionMax, 2, 1, hraft.Configuration{}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sink.Write([]byte("state")); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}

	var l hraft.Log
	if err := f.store.GetLog(2, &l); err != nil || string(l.Data) != "b" {
		t.Fatalf("GetLog(2) = %q, %v", l.Data, err)
	}
	if last, err := f.store.LastIndex(); err != nil || last != 2 {
		t.Fatalf("LastIndex = %d, %v; want 2 (3 deleted)", last, err)
	}
	if v, err := f.store.Get([]byte("k")); err != nil || !bytes.Equal(v, []byte("v")) {
		t.Fatalf("Get(k) = %q, %v", v, err)
	}
	if v, err := f.store.GetUint64([]byte("term")); err != nil || v != 7 {
		t.Fatalf("GetUint64(term) = %d, %v", v, err)
	}
	metas, err := f.snaps.List()
	if err != nil || len(metas) != 1 || metas[0].Index != 2 {
		t.Fatalf("snapshots = %+v, %v; want one at index 2", metas, err)
	}
}

func TestSlowDiskDelaysDurableWrites(t *testing.T) {
	f := newSlowDiskFixture(t, `{"disk_delay_ms": 50}`)
	f.writeAll(t)
	// StoreLog, StoreLogs, DeleteRange, Set, SetUint64, snapshot Close;
	// reads (GetLog, LastIndex, Get, GetUint64, List) wait for nothing.
	if len(f.slept) != 6 {
		t.Fatalf("%d delays (%v), want 6: one per durable write", len(f.slept), f.slept)
	}
	for _, d := range f.slept {
		if d != 50*time.Millisecond {
			t.Fatalf("delay %v, want 50ms", d)
		}
	}
}

func TestSlowDiskOffWithoutRule(t *testing.T) {
	f := newSlowDiskFixture(t, `{"delay_ms": {"*": 20}}`)
	f.writeAll(t)
	if len(f.slept) != 0 {
		t.Fatalf("delays %v without disk_delay_ms", f.slept)
	}
}

func TestSlowDiskRuleChangesAtRuntime(t *testing.T) {
	f := newSlowDiskFixture(t, ``)
	put := func(i uint64) {
		if err := f.store.StoreLog(&hraft.Log{Index: i, Term: 1}); err != nil {
			t.Fatal(err)
		}
	}
	put(1)
	f.setRules(t, `{"disk_delay_ms": 120}`)
	put(2)
	f.setRules(t, `{}`) // healed
	put(3)
	if len(f.slept) != 1 || f.slept[0] != 120*time.Millisecond {
		t.Fatalf("delays %v, want exactly [120ms] (only while the rule was set)", f.slept)
	}
}

// TestSlowDiskRealSleep checks the delay with the real clock: a StoreLogs
// under a 50 ms rule cannot return sooner (a lower bound, not a speed claim).
func TestSlowDiskRealSleep(t *testing.T) {
	f := newSlowDiskFixture(t, `{"disk_delay_ms": 50}`)
	f.w.sleep = time.Sleep
	start := time.Now()
	if err := f.store.StoreLogs([]*hraft.Log{{Index: 1, Term: 1}}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Fatalf("StoreLogs took %v under a 50 ms disk delay", took)
	}
}
