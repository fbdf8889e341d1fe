package logstore

import (
	"bytes"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func openT(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func newT(t testing.TB) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s := openT(t, dir)
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func mkLog(idx, term uint64) *raft.Log {
	return &raft.Log{
		Index:      idx,
		Term:       term,
		Type:       raft.LogCommand,
		Data:       []byte{byte(idx), byte(idx >> 8), 0xAB},
		Extensions: []byte("ext"),
		AppendedAt: time.Unix(1_700_000_000, int64(idx)),
	}
}

func storeRange(t testing.TB, s *Store, lo, hi uint64) {
	t.Helper()
	var logs []*raft.Log
	for i := lo; i <= hi; i++ {
		logs = append(logs, mkLog(i, 1))
	}
	if err := s.StoreLogs(logs); err != nil {
		t.Fatalf("StoreLogs(%d..%d): %v", lo, hi, err)
	}
}

func firstLast(t testing.TB, s *Store) (uint64, uint64) {
	t.Helper()
	f, err := s.FirstIndex()
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.LastIndex()
	if err != nil {
		t.Fatal(err)
	}
	return f, l
}

func wantFirstLast(t testing.TB, s *Store, f, l uint64) {
	t.Helper()
	gf, gl := firstLast(t, s)
	if gf != f || gl != l {
		t.Fatalf("First/Last = %d/%d, want %d/%d", gf, gl, f, l)
	}
}

func logsEqual(a, b *raft.Log) bool {
	return a.Index == b.Index && a.Term == b.Term && a.Type == b.Type &&
		bytes.Equal(a.Data, b.Data) && bytes.Equal(a.Extensions, b.Extensions) &&
		a.AppendedAt.Equal(b.AppendedAt) && a.AppendedAt.IsZero() == b.AppendedAt.IsZero()
}

func TestEmpty(t *testing.T) {
	s, _ := newT(t)
	wantFirstLast(t, s, 0, 0)
	var l raft.Log
	for _, idx := range []uint64{0, 1, 42, math.MaxUint64} {
		if err := s.GetLog(idx, &l); err != raft.ErrLogNotFound {
			t.Fatalf("GetLog(%d) on empty = %v, want exactly raft.ErrLogNotFound", idx, err)
		}
	}
}

// Stable keys must never be read as log indexes (a known bug in public
// examples: FirstIndex returning a stable key as an index).
func TestStableKeysInvisibleToLog(t *testing.T) {
	s, _ := newT(t)
	// Keys that would sort before and after log keys if prefixes were shared.
	for _, k := range [][]byte{{0x00}, {0xff, 0xff}, []byte("CurrentTerm"), []byte("LastVoteCand"), {}} {
		if err := s.Set(k, []byte("v")); err != nil {
			t.Fatal(err)
		}
		if err := s.SetUint64(append(k, 'u'), math.MaxUint64); err != nil {
			t.Fatal(err)
		}
	}
	wantFirstLast(t, s, 0, 0)
	storeRange(t, s, 5, 7)
	wantFirstLast(t, s, 5, 7)
	if err := s.DeleteRange(0, math.MaxUint64); err != nil {
		t.Fatal(err)
	}
	wantFirstLast(t, s, 0, 0)
	// ... and log deletion must not touch stable keys.
	v, err := s.Get([]byte("CurrentTerm"))
	if err != nil || string(v) != "v" {
		t.Fatalf("stable key after DeleteRange = %q, %v", v, err)
	}
	u, err := s.GetUint64([]byte("CurrentTermu"))
	if err != nil || u != math.MaxUint64 {
		t.Fatalf("stable uint64 after DeleteRange = %d, %v", u, err)
	}
}

func TestStoreGetRoundTrip(t *testing.T) {
	s, _ := newT(t)
	cases := []*raft.Log{
		{Index: 1, Term: 1, Type: raft.LogConfiguration, Data: []byte("cfg")},
		{Index: 2, Term: 1, Type: raft.LogNoop},                                          // nil data, zero time
		{Index: 3, Term: 2, Type: raft.LogCommand, Data: []byte{}, Extensions: []byte{}}, // empty, not nil
		{Index: 4, Term: math.MaxUint64, Type: raft.LogBarrier, Extensions: []byte("only ext")},
		{Index: 5, Term: 3, Type: raft.LogType(200), Data: bytes.Repeat([]byte{7}, 1<<20), AppendedAt: time.Unix(-5, 3)},
		{Index: math.MaxUint64, Term: 9, Data: []byte("last"), AppendedAt: time.Now()},
	}
	if err := s.StoreLogs(cases); err != nil {
		t.Fatal(err)
	}
	for _, want := range cases {
		var got raft.Log
		if err := s.GetLog(want.Index, &got); err != nil {
			t.Fatalf("GetLog(%d): %v", want.Index, err)
		}
		if !logsEqual(&got, want) {
			t.Fatalf("GetLog(%d) = %+v, want %+v", want.Index, got, want)
		}
		if len(want.Data) == 0 && got.Data != nil || len(want.Extensions) == 0 && got.Extensions != nil {
			t.Fatalf("empty slices should decode as nil: %+v", got)
		}
	}
	wantFirstLast(t, s, 1, math.MaxUint64)
}

func TestGetLogMissingIsErrLogNotFound(t *testing.T) {
	s, _ := newT(t)
	storeRange(t, s, 10, 20)
	if err := s.DeleteRange(14, 15); err != nil {
		t.Fatal(err)
	}
	var l raft.Log
	for _, idx := range []uint64{0, 9, 14, 15, 21, math.MaxUint64} {
		err := s.GetLog(idx, &l)
		if err != raft.ErrLogNotFound { // exact identity, not errors.Is
			t.Fatalf("GetLog(%d) = %v, want raft.ErrLogNotFound", idx, err)
		}
	}
	for _, idx := range []uint64{10, 13, 16, 20} {
		if err := s.GetLog(idx, &l); err != nil || l.Index != idx {
			t.Fatalf("GetLog(%d) = %v, index %d", idx, err, l.Index)
		}
	}
}

func TestDeleteRangeInclusive(t *testing.T) {
	s, _ := newT(t)
	storeRange(t, s, 1, 10)

	if err := s.DeleteRange(1, 3); err != nil { // head, like raft compaction
		t.Fatal(err)
	}
	wantFirstLast(t, s, 4, 10)
	if err := s.DeleteRange(8, 10); err != nil { // tail, like conflict truncation
		t.Fatal(err)
	}
	wantFirstLast(t, s, 4, 7)
	if err := s.DeleteRange(5, 5); err != nil { // single entry
		t.Fatal(err)
	}
	var l raft.Log
	for idx, present := range map[uint64]bool{4: true, 5: false, 6: true, 7: true} {
		err := s.GetLog(idx, &l)
		if present != (err == nil) {
			t.Fatalf("GetLog(%d) = %v, want present=%v", idx, err, present)
		}
	}
	if err := s.DeleteRange(7, 6); err != nil { // min > max: no-op
		t.Fatal(err)
	}
	wantFirstLast(t, s, 4, 7)
	if err := s.DeleteRange(0, 0); err != nil { // nothing there
		t.Fatal(err)
	}
	wantFirstLast(t, s, 4, 7)
	if err := s.DeleteRange(4, 7); err != nil {
		t.Fatal(err)
	}
	wantFirstLast(t, s, 0, 0)
}

func TestDeleteRangeMaxUint64(t *testing.T) {
	s, _ := newT(t)
	storeRange(t, s, 1, 5)
	max := uint64(math.MaxUint64)
	if err := s.StoreLogs([]*raft.Log{mkLog(max-1, 1), mkLog(max, 1)}); err != nil {
		t.Fatal(err)
	}
	wantFirstLast(t, s, 1, max)

	// Deleting exactly the last index must delete it (max+1 would wrap to 0
	// and turn the range into an empty or inverted one).
	if err := s.DeleteRange(max, max); err != nil {
		t.Fatal(err)
	}
	wantFirstLast(t, s, 1, max-1)
	var l raft.Log
	if err := s.GetLog(max, &l); err != raft.ErrLogNotFound {
		t.Fatalf("GetLog(MaxUint64) after delete = %v", err)
	}

	if err := s.DeleteRange(3, max); err != nil {
		t.Fatal(err)
	}
	wantFirstLast(t, s, 1, 2)
	if err := s.DeleteRange(0, max); err != nil {
		t.Fatal(err)
	}
	wantFirstLast(t, s, 0, 0)
}

func TestOverwriteAfterTruncate(t *testing.T) {
	s, _ := newT(t)
	storeRange(t, s, 1, 5)
	if err := s.DeleteRange(3, 5); err != nil {
		t.Fatal(err)
	}
	// New leader rewrites 3.. with a higher term.
	if err := s.StoreLogs([]*raft.Log{mkLog(3, 2), mkLog(4, 2)}); err != nil {
		t.Fatal(err)
	}
	wantFirstLast(t, s, 1, 4)
	var l raft.Log
	if err := s.GetLog(4, &l); err != nil || l.Term != 2 {
		t.Fatalf("GetLog(4) = %+v, %v", l, err)
	}
	// Plain overwrite without delete also wins.
	if err := s.StoreLog(mkLog(4, 3)); err != nil {
		t.Fatal(err)
	}
	if err := s.GetLog(4, &l); err != nil || l.Term != 3 {
		t.Fatalf("GetLog(4) = %+v, %v", l, err)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	storeRange(t, s, 1, 100)
	if err := s.DeleteRange(1, 40); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRange(91, 100); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUint64([]byte("CurrentTerm"), 7); err != nil {
		t.Fatal(err)
	}
	if err := s.Set([]byte("LastVoteCand"), []byte("node-2")); err != nil {
		t.Fatal(err)
	}
	if err := s.Set([]byte("empty"), []byte{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	if _, err := s.LastIndex(); !errors.Is(err, ErrClosed) {
		t.Fatalf("LastIndex after Close = %v", err)
	}

	s = openT(t, dir)
	defer s.Close()
	wantFirstLast(t, s, 41, 90)
	for i := uint64(41); i <= 90; i++ {
		var l raft.Log
		if err := s.GetLog(i, &l); err != nil {
			t.Fatalf("GetLog(%d): %v", i, err)
		}
		if !logsEqual(&l, mkLog(i, 1)) {
			t.Fatalf("GetLog(%d) = %+v", i, l)
		}
	}
	if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil || v != 7 {
		t.Fatalf("CurrentTerm = %d, %v", v, err)
	}
	if v, err := s.Get([]byte("LastVoteCand")); err != nil || string(v) != "node-2" {
		t.Fatalf("LastVoteCand = %q, %v", v, err)
	}
	if v, err := s.Get([]byte("empty")); err != nil || v == nil || len(v) != 0 {
		t.Fatalf("empty value = %#v, %v (want non-nil empty)", v, err)
	}
}

func TestSecondOpenOfSameDirFails(t *testing.T) {
	_, dir := newT(t)
	if s2, err := Open(dir); err == nil {
		s2.Close()
		t.Fatal("second Open of a locked dir succeeded")
	}
}

func TestStableMissing(t *testing.T) {
	s, _ := newT(t)
	v, err := s.Get([]byte("nope"))
	if err != nil || v != nil {
		t.Fatalf("Get(missing) = %#v, %v; want nil, nil", v, err)
	}
	u, err := s.GetUint64([]byte("nope"))
	if err != nil || u != 0 {
		t.Fatalf("GetUint64(missing) = %d, %v; want 0, nil", u, err)
	}
	if err := s.SetUint64([]byte("k"), 0); err != nil {
		t.Fatal(err)
	}
	if u, err := s.GetUint64([]byte("k")); err != nil || u != 0 {
		t.Fatalf("GetUint64(k) = %d, %v", u, err)
	}
	if err := s.Set([]byte("k3"), []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUint64([]byte("k3")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("GetUint64 of a 3-byte value = %v, want ErrCorrupt", err)
	}
}

// Values are not aliased in either direction.
func TestNoAliasing(t *testing.T) {
	s, _ := newT(t)

	// 1. Caller mutates its input after StoreLogs / Set.
	in := &raft.Log{Index: 1, Term: 1, Data: []byte("hello"), Extensions: []byte("ext")}
	if err := s.StoreLogs([]*raft.Log{in}); err != nil {
		t.Fatal(err)
	}
	copy(in.Data, "XXXXX")
	copy(in.Extensions, "YYY")
	in.Index, in.Term = 99, 99
	key, val := []byte("key"), []byte("val")
	if err := s.Set(key, val); err != nil {
		t.Fatal(err)
	}
	copy(key, "zzz")
	copy(val, "qqq")

	// 2. Caller mutates what it got back.
	var got raft.Log
	if err := s.GetLog(1, &got); err != nil {
		t.Fatal(err)
	}
	if string(got.Data) != "hello" || string(got.Extensions) != "ext" {
		t.Fatalf("stored entry changed with caller's slices: %+v", got)
	}
	for i := range got.Data {
		got.Data[i] = 0
	}
	got.Data = append(got.Data, "more"...) // must not spill into Extensions
	if string(got.Extensions) != "ext" {
		t.Fatalf("append to Data overwrote Extensions: %q", got.Extensions)
	}
	for i := range got.Extensions {
		got.Extensions[i] = 0
	}
	v, err := s.Get([]byte("key"))
	if err != nil || string(v) != "val" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	v[0] = 'X'

	// 3. Reusing one raft.Log for several GetLog calls overwrites every field.
	if err := s.StoreLogs([]*raft.Log{{Index: 2, Term: 5, Type: raft.LogNoop}}); err != nil {
		t.Fatal(err)
	}
	reuse := raft.Log{Data: []byte("stale"), Extensions: []byte("stale"), AppendedAt: time.Now()}
	if err := s.GetLog(2, &reuse); err != nil {
		t.Fatal(err)
	}
	if reuse.Data != nil || reuse.Extensions != nil || !reuse.AppendedAt.IsZero() || reuse.Term != 5 || reuse.Type != raft.LogNoop {
		t.Fatalf("reused raft.Log kept stale fields: %+v", reuse)
	}
	if err := s.GetLog(1, &reuse); err != nil {
		t.Fatal(err)
	}

	var again raft.Log
	if err := s.GetLog(1, &again); err != nil {
		t.Fatal(err)
	}
	if string(again.Data) != "hello" || string(again.Extensions) != "ext" || again.Index != 1 || again.Term != 1 {
		t.Fatalf("store affected by caller mutation: %+v", again)
	}
	if v, _ := s.Get([]byte("key")); string(v) != "val" {
		t.Fatalf("stable value affected by caller mutation: %q", v)
	}
	if v, _ := s.Get([]byte("zzz")); v != nil {
		t.Fatalf("stable key aliased: %q", v)
	}
}

func TestStoreLogsEmptyAndNil(t *testing.T) {
	s, _ := newT(t)
	if err := s.StoreLogs(nil); err != nil {
		t.Fatal(err)
	}
	if err := s.StoreLogs([]*raft.Log{mkLog(1, 1), nil}); err == nil {
		t.Fatal("nil entry accepted")
	}
	// The failed batch must not be partially applied.
	wantFirstLast(t, s, 0, 0)
}

func TestDecodeRejectsCorruption(t *testing.T) {
	l := mkLog(7, 3)
	v := make([]byte, encodedLogSize(l))
	encodeLog(v, l)
	var out raft.Log
	if err := decodeLog(v, 7, &out); err != nil || !logsEqual(&out, l) {
		t.Fatalf("decode: %v %+v", err, out)
	}
	if err := decodeLog(v, 8, &out); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("index mismatch not detected: %v", err)
	}
	for n := 0; n < len(v); n++ {
		if err := decodeLog(v[:n], 7, &out); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
	if err := decodeLog(append(v[:len(v):len(v)], 0), 7, &out); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("trailing byte not detected: %v", err)
	}
}
