package engine

import (
	"bytes"
	"math"
	"path/filepath"
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

// withNarrowMax runs fn with members keeping only values in ±max narrow.
func withNarrowMax(max int64, fn func()) {
	defer func(old int64) { narrowMax = old }(narrowMax)
	narrowMax = max
	fn()
}

// checkWideChangesNothing replays stream with every value narrow where it
// fits and with nearly every value wide (in the member's ext): results,
// dump, ledger entries and snapshot bytes must be the same, and a
// snapshot taken at cut restores to the same state either way.
func checkWideChangesNothing(t fataler, prog *Program, stream []byte, cut int) {
	run := func() ([][]byte, []Entry, []byte) {
		lines, eng, entries := runStream(t, prog, stream, 7)
		return lines, entries, snapshotBytes(t, eng)
	}
	want, wantEntries, wantSnap := run()
	var got [][]byte
	var gotEntries []Entry
	var gotSnap []byte
	withNarrowMax(3, func() {
		got, gotEntries, gotSnap = run()
		checkSnapshotRestore(t, prog, stream, cut)
	})
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotEntries, wantEntries) || !bytes.Equal(gotSnap, wantSnap) {
		for i := range min(len(got), len(want)) {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("line %d: wide %s, narrow %s", i, got[i], want[i])
			}
		}
		t.Fatal("results, dump, entries or snapshot differ between wide and narrow values")
	}
}

// TestWideValuesChangeNothing: a member's balances and counters are exact
// however large (bal: an int32 in the member, else the int64 in its ext),
// through views, rolled-back catch-ups, dropped lots and snapshots.
func TestWideValuesChangeNothing(t *testing.T) {
	prog := loadProgramFile(t, filepath.Join("..", "testdata", "conformance", "coalition.program.json"))
	stream := lotHistoryStream(prog.Partners[0].ID)
	checkWideChangesNothing(t, prog, stream, len(bytes.Split(stream, []byte("\n")))/2)
}

func TestPropertyWideValuesChangeNothing(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		prog := programForProperty(t)
		stream := genStream(t, prog)
		cut := rapid.IntRange(0, len(bytes.SplitAfter(stream, []byte("\n")))).Draw(t, "cut")
		checkWideChangesNothing(t, prog, stream, cut)
	})
}

// TestBalanceBeyondInt32: a member whose points pass 2^31 keeps them exact.
func TestBalanceBeyondInt32(t *testing.T) {
	prog := loadProgramFile(t, filepath.Join("..", "testdata", "conformance", "coalition.program.json"))
	stream := []byte(`{"type":"adjust","id":"a1","member":"A","points":3000000000000,"reason":"x","at":"2026-01-01T00:00:00Z"}
{"type":"redeem","id":"r1","member":"A","partner":"` + prog.Partners[0].ID + `","points":2147483648,"at":"2026-01-02T00:00:00Z"}
`)
	_, eng, _ := runStream(t, prog, stream, 1)
	m := eng.members.at(eng.lookup([]byte("A")))
	if got, want := m.available(), int64(3000000000000-2147483648); got != want {
		t.Fatalf("available %d, want %d", got, want)
	}
	if got := m.get(bRedeemed); got != 2147483648 || m.n[bRedeemed] != wideMark || m.get(bEarned) != 3000000000000 {
		t.Fatalf("redeemed %d (narrow %d), earned %d", got, m.n[bRedeemed], m.get(bEarned))
	}
	if m.n[bPending] == wideMark || m.get(bPending) != 0 || math.MaxInt32 != narrowMax {
		t.Fatalf("pending %d (narrow %d)", m.get(bPending), m.n[bPending])
	}
}
