package engine

import (
	"bytes"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

// lotHistoryStream is a year of one member's daily purchases (member A,
// coalition program: lots expire after 90 days) with redemptions that
// empty old lots, so that A drops them, and, late, what reaches back to
// dropped lots: cancellations of redemptions and releases of holds made
// months before (their points go back to dropped lots, some already
// expired), refunds of old purchases (whose lots are gone) and transfers.
func lotHistoryStream(partner string) []byte {
	var b bytes.Buffer
	at := int64(1767225600000) // 2026-01-01
	line := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	for d := range 365 {
		ts := FormatTime(at + int64(d)*msPerDay)
		line(`{"type":"purchase","id":"p%d","member":"A","partner":%q,"amount":20000,"at":%q}`, d, partner, ts)
		switch {
		case d%3 == 2:
			line(`{"type":"redeem","id":"r%d","member":"A","partner":%q,"points":150,"at":%q}`, d, partner, ts)
		case d%7 == 4:
			line(`{"type":"hold","id":"h%d","member":"A","partner":%q,"points":40,"timeout_s":86400,"at":%q}`, d, partner, ts)
		}
		if d >= 100 && d%10 == 0 {
			line(`{"type":"cancel_redemption","id":"c%d","original":"r%d","at":%q}`, d, d-97+(d%3), ts)
			line(`{"type":"refund","id":"f%d","member":"A","partner":%q,"original":"p%d","amount":5000,"at":%q}`, d, partner, d-95, ts)
			line(`{"type":"transfer","id":"t%d","member":"A","to":"B","points":30,"at":%q}`, d, ts)
		}
		if d >= 100 && d%14 == 4 {
			line(`{"type":"release","id":"x%d","original":"h%d","at":%q}`, d, d-98, ts)
		}
	}
	return b.Bytes()
}

// runLots replays stream through a caller of an engine that keeps every
// lot or drops them, store-backed with window 1 or keep-all.
func runLots(t fataler, prog *Program, stream []byte, keepLots, storeBacked bool) ([][]byte, []Entry, *Engine) {
	c := &recordCaller{eng: NewWithOptions(prog, Options{StoreBacked: storeBacked}), store: fakeStore{}, window: 1, t: t}
	c.eng.keepLots = keepLots
	lines, entries := replayStream(t, c.eng, c.apply, stream, 5)
	return lines, entries, c.eng
}

// TestDroppedLotsChangeNothing: an engine that drops empty lots gives the
// same results, dump and ledger entries as one that keeps them all, when
// cancellations, releases and refunds reach back to dropped lots; and it
// does drop them, so that its member holds (and has room for) its live
// lots, not its history.
func TestDroppedLotsChangeNothing(t *testing.T) {
	prog := loadProgramFile(t, filepath.Join("..", "testdata", "conformance", "coalition.program.json"))
	stream := lotHistoryStream(prog.Partners[0].ID)
	for _, storeBacked := range []bool{false, true} {
		want, wantEntries, kept := runLots(t, prog, stream, true, storeBacked)
		got, gotEntries, dropped := runLots(t, prog, stream, false, storeBacked)
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotEntries, wantEntries) {
			for i := range min(len(got), len(want)) {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("store-backed %v: line %d: got %s, want %s", storeBacked, i, got[i], want[i])
				}
			}
			t.Fatalf("store-backed %v: results, dump or entries differ from the engine that keeps every lot", storeBacked)
		}
		a := dropped.members.at(dropped.lookup([]byte("A")))
		if all := kept.members.at(kept.lookup([]byte("A"))); a.lotBase == 0 || 3*cap(a.lots()) > 2*len(all.lots()) {
			t.Fatalf("store-backed %v: %d lots kept; dropping, %d lots (capacity %d) from %d",
				storeBacked, len(all.lots()), len(a.lots()), cap(a.lots()), a.lotBase)
		}
	}
}

// TestPropertyDroppedLotsChangeNothing: the same for random streams, with a
// snapshot and restore of the dropping engine in between.
func TestPropertyDroppedLotsChangeNothing(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		prog := programForProperty(t)
		stream := genStream(t, prog)
		storeBacked := rapid.Bool().Draw(t, "storeBacked")
		want, wantEntries, _ := runLots(t, prog, stream, true, storeBacked)
		got, gotEntries, _ := runLots(t, prog, stream, false, storeBacked)
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotEntries, wantEntries) {
			t.Fatal("results, dump or entries differ from the engine that keeps every lot")
		}
		lines := bytes.SplitAfter(stream, []byte("\n"))
		checkSnapshotRestore(t, prog, stream, rapid.IntRange(0, len(lines)).Draw(t, "cut"))
	})
}

// TestOldSnapshotKeepsLots: an engine restored from a snapshot older than
// version 6 keeps every lot (its store may hold format 1 record values,
// whose parts take their expiry from their lots), and says so in its own
// snapshots; a new engine's snapshot restores dropping.
func TestOldSnapshotKeepsLots(t *testing.T) {
	prog := loadProgramFile(t, filepath.Join("..", "testdata", "conformance", "club.program.json"))
	old := NewWithOptions(prog, Options{StoreBacked: true})
	old.keepLots = true // as Restore makes it from versions 2 … 5
	for _, c := range []struct {
		name string
		eng  *Engine
		keep bool
	}{{"restored from version < 6", old, true}, {"new", New(prog), false}} {
		e, err := Restore(bytes.NewReader(snapshotBytes(t, c.eng)))
		if err != nil {
			t.Fatal(err)
		}
		if e.keepLots != c.keep {
			t.Errorf("%s: keepLots %v after a snapshot round trip, want %v", c.name, e.keepLots, c.keep)
		}
	}
}
