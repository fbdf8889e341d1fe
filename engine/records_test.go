package engine

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// fakeStore is the caller's record store, as a map from id to value.
type fakeStore map[string][]byte

// recordCaller drives an engine the way doc.go tells a caller to: before
// each Apply it loads the missing records from the store and sets the
// position; after, it persists the dirty records and evicts down to window.
type recordCaller struct {
	eng     *Engine
	store   fakeStore
	window  int
	pos     uint64 // the last Apply's position
	t       fataler
	missing [][]byte
}

func (c *recordCaller) apply(cmds []Command, results []Result, entries []Entry) ([]Result, []Entry) {
	c.pos++
	c.missing = c.eng.AppendMissing(cmds, c.missing[:0])
	for _, id := range c.missing {
		if v, ok := c.store[string(id)]; ok {
			if err := c.eng.LoadRecord(id, v, c.pos); err != nil {
				c.t.Fatal(err)
			}
		}
	}
	c.eng.SetPosition(c.pos)
	results, entries = c.eng.Apply(cmds, results, entries)
	if err := c.eng.AppendDirty(func(id string, v []byte) error {
		c.store[id] = append([]byte(nil), v...)
		return nil
	}); err != nil {
		c.t.Fatal(err)
	}
	c.eng.Evict(c.window, c.pos)
	return results, entries
}

// storeRun replays stream through a caller of an engine with the given
// mode and window, returning what runStream does plus the snapshot.
func storeRun(t fataler, prog *Program, stream []byte, batch int, storeBacked bool, window int) (
	lines [][]byte, entries []Entry, c *recordCaller, snap []byte) {
	c = &recordCaller{eng: NewWithOptions(prog, Options{StoreBacked: storeBacked}), store: fakeStore{}, window: window, t: t}
	lines, entries = replayStream(t, c.eng, c.apply, stream, batch)
	return lines, entries, c, snapshotBytes(t, c.eng)
}

func snapshotBytes(t fataler, e *Engine) []byte {
	var b bytes.Buffer
	if err := e.Snapshot(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestPropertyRecordWindows: store-backed engines with windows 1, 7 and
// 2^30 give the same result bytes, ledger entries, snapshot bytes and store
// contents; a keep-all engine gives the same results, entries and store.
func TestPropertyRecordWindows(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		prog := programForProperty(t)
		stream := genStream(t, prog)
		batch := rapid.IntRange(1, 16).Draw(t, "batch")
		lines, entries, all, _ := storeRun(t, prog, stream, batch, false, 0)
		var snap0 []byte
		for _, window := range []int{1, 7, 1 << 30} {
			l, en, c, snap := storeRun(t, prog, stream, batch, true, window)
			if !reflect.DeepEqual(l, lines) || !reflect.DeepEqual(en, entries) {
				t.Fatalf("window %d: results or entries differ from keep-all", window)
			}
			if !maps.EqualFunc(c.store, all.store, bytes.Equal) {
				t.Fatalf("window %d: store differs from keep-all's", window)
			}
			if snap0 == nil {
				snap0 = snap
				checkRoundTrip(t, snap, c.store)
			} else if !bytes.Equal(snap, snap0) {
				t.Fatalf("window %d: snapshot differs from window 1's", window)
			}
			if c.eng.Totals() != all.eng.Totals() {
				t.Fatalf("window %d: totals %+v, keep-all %+v", window, c.eng.Totals(), all.eng.Totals())
			}
		}
	})
}

// checkRoundTrip loads every stored record into the engine restored from
// snap and checks that it encodes back to the stored bytes.
func checkRoundTrip(t fataler, snap []byte, store fakeStore) {
	e, err := Restore(bytes.NewReader(snap))
	if err != nil {
		t.Fatal(err)
	}
	for id, v := range store {
		if err := e.LoadRecord([]byte(id), v, 1<<62); err != nil {
			t.Fatal(err)
		}
		ri, ok := e.ids.find(idKeys{e}, []byte(id))
		if !ok {
			t.Fatalf("record %s not loaded", id)
		}
		if back := e.appendRecordValue(nil, ri); !bytes.Equal(back, v) {
			t.Fatalf("record %s: %x encodes back as %x", id, v, back)
		}
	}
}

// TestConformanceStoreBacked runs SPEC's vectors through a store-backed
// engine that keeps one record resident.
func TestConformanceStoreBacked(t *testing.T) {
	for _, name := range conformanceVectors {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "testdata", "conformance")
			prog := loadProgramFile(t, filepath.Join(dir, name+".program.json"))
			stream, err := os.ReadFile(filepath.Join(dir, name+".ndjson"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(dir, name+".expected.ndjson"))
			if err != nil {
				t.Fatal(err)
			}
			for _, batch := range []int{1, 7} {
				got, _, _, _ := storeRun(t, prog, stream, batch, true, 1)
				compareJSONLines(t, got, want)
			}
		})
	}
}

// TestPropertyAsOf is the crash-restart case: the engine restarts from a
// snapshot at position S while the store was written through P > S; the
// replay of S+1..P against that store (ahead of the engine) gives the same
// results, entries, final snapshot and store as the first run.
func TestPropertyAsOf(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		prog := programForProperty(t)
		stream := bytes.SplitAfter(genStream(t, prog), []byte("\n"))
		window := rapid.SampledFrom([]int{1, 3, 1 << 30}).Draw(t, "window")
		checkAsOf(t, prog, stream, rapid.IntRange(0, len(stream)).Draw(t, "cut"), window)
	})
}

// TestAsOfRefundsAndCancel: refunds and a cancellation written after the
// snapshot are in the store when the engine restarts from it; as of the
// replayed commands they have not happened yet.
func TestAsOfRefundsAndCancel(t *testing.T) {
	prog := loadProgramFile(t, filepath.Join("..", "testdata", "conformance", "coalition.program.json"))
	p := prog.Partners[0].ID
	var stream [][]byte
	for _, l := range []string{
		`{"type":"purchase","id":"p1","member":"A","partner":"` + p + `","amount":100000,"at":"2026-01-01T00:00:00Z"}`,
		`{"type":"adjust","id":"a1","member":"A","points":900,"at":"2026-01-01T00:00:00Z"}`,
		`{"type":"redeem","id":"d1","member":"A","partner":"` + p + `","points":300,"at":"2026-01-02T00:00:00Z"}`,
		`{"type":"refund","id":"r1","member":"A","partner":"` + p + `","original":"p1","amount":30000,"at":"2026-01-03T00:00:00Z"}`,
		`{"type":"refund","id":"r2","member":"A","partner":"` + p + `","original":"p1","amount":30000,"at":"2026-01-04T00:00:00Z"}`,
		`{"type":"cancel_redemption","id":"x1","original":"d1","at":"2026-01-05T00:00:00Z"}`,
		`{"type":"refund","id":"r3","member":"A","partner":"` + p + `","original":"p1","amount":40000,"at":"2026-01-06T00:00:00Z"}`,
		`{"type":"cancel_redemption","id":"x2","original":"d1","at":"2026-01-07T00:00:00Z"}`,
	} {
		stream = append(stream, []byte(l+"\n"))
	}
	for cut := range len(stream) {
		for _, window := range []int{1, 1 << 30} {
			checkAsOf(t, prog, stream, cut, window)
		}
	}
}

// checkAsOf applies stream one command per position, snapshots after cut
// lines, applies the rest; then restores the snapshot and replays the rest
// against the store the first run left, and compares.
func checkAsOf(t fataler, prog *Program, stream [][]byte, cut, window int) {
	t.Helper()
	first := &recordCaller{eng: NewWithOptions(prog, Options{StoreBacked: true}), store: fakeStore{}, window: window, t: t}
	replayStream(t, first.eng, first.apply, bytes.Join(stream[:cut], nil), 1)
	snap, snapPos := snapshotBytes(t, first.eng), first.pos
	wantLines, wantEntries := replayStream(t, first.eng, first.apply, bytes.Join(stream[cut:], nil), 1)

	restored, err := Restore(bytes.NewReader(snap))
	if err != nil {
		t.Fatal(err)
	}
	again := &recordCaller{eng: restored, store: maps.Clone(first.store), window: window, t: t, pos: snapPos}
	gotLines, gotEntries := replayStream(t, restored, again.apply, bytes.Join(stream[cut:], nil), 1)
	if !reflect.DeepEqual(gotLines, wantLines) || !reflect.DeepEqual(gotEntries, wantEntries) {
		t.Fatalf("cut %d: replay against a store ahead of the engine differs from the first run:\n%s\nwant\n%s",
			cut, bytes.Join(gotLines, []byte("\n")), bytes.Join(wantLines, []byte("\n")))
	}
	if !bytes.Equal(snapshotBytes(t, restored), snapshotBytes(t, first.eng)) {
		t.Fatalf("cut %d: state after the replay differs from the first run's", cut)
	}
	if !maps.EqualFunc(again.store, first.store, bytes.Equal) {
		t.Fatalf("cut %d: store after the replay differs from the first run's", cut)
	}
}

// TestEvictKeepsUnwrittenAndPinned: Evict never drops a dirty record, one
// stamped after writtenThrough, or an open hold's.
func TestEvictKeepsUnwrittenAndPinned(t *testing.T) {
	prog := loadProgramFile(t, filepath.Join("..", "testdata", "conformance", "club.program.json"))
	e := NewWithOptions(prog, Options{StoreBacked: true})
	store := fakeStore{}
	persist := func(id string, v []byte) error { store[id] = append([]byte(nil), v...); return nil }
	step := func(pos uint64, lines ...string) {
		t.Helper()
		cmds := decodeLines(lines...)
		for _, id := range e.AppendMissing(cmds, nil) {
			if v, ok := store[string(id)]; ok {
				if err := e.LoadRecord(id, v, pos); err != nil {
					t.Fatal(err)
				}
			}
		}
		e.SetPosition(pos)
		res, _ := e.Apply(cmds, nil, nil)
		for i := range res {
			if res[i].Err != OK {
				t.Fatalf("%s: %s", lines[i], e.AppendJSON(nil, &res[i]))
			}
		}
	}
	resident := func(want ...string) {
		t.Helper()
		var got []string
		for ri := int32(0); int(ri) < e.recs.len(); ri++ {
			if id := e.recs.at(ri).id; id != "" {
				got = append(got, id)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("resident %v, want %v", got, want)
		}
	}
	partner := prog.Partners[0].ID
	step(1, `{"type":"purchase","id":"p1","member":"A","partner":"`+partner+`","amount":100000,"at":"2026-01-01T00:00:00Z"}`,
		`{"type":"adjust","id":"a1","member":"A","points":5000,"at":"2026-01-01T00:00:00Z"}`,
		`{"type":"hold","id":"h1","member":"A","partner":"`+partner+`","points":100,"timeout_s":86400,"at":"2026-01-01T00:00:00Z"}`)
	e.Evict(1, 1)
	resident("p1", "a1", "h1") // all dirty
	if err := e.AppendDirty(persist); err != nil {
		t.Fatal(err)
	}
	e.Evict(1, 0)
	resident("p1", "a1", "h1") // stamped at 1, written through 0
	e.Evict(1, 1)
	resident("h1") // the open hold is pinned
	step(2, `{"type":"refund","id":"r1","member":"A","partner":"`+partner+`","original":"p1","amount":10,"at":"2026-01-01T00:00:01Z"}`,
		`{"type":"capture","id":"c1","original":"h1","at":"2026-01-01T00:00:01Z"}`)
	if err := e.AppendDirty(persist); err != nil {
		t.Fatal(err)
	}
	e.Evict(1, 1)
	resident("p1", "r1", "c1") // p1 was reloaded and changed at 2, the rest made at 2; h1 closed
	e.Evict(1, 2)
	resident("c1") // oldest resident first: p1 (loaded before the Apply), r1
	if e.Totals().Commands != 5 {
		t.Fatalf("Totals().Commands = %d, want 5", e.Totals().Commands)
	}
}

// TestLoadRecordRejectsCorrupt: a value that does not decode, or refers
// outside the state, fails with ErrBadRecord and loads nothing.
func TestLoadRecordRejectsCorrupt(t *testing.T) {
	prog := loadProgramFile(t, filepath.Join("..", "testdata", "conformance", "club.program.json"))
	_, _, c, snap := storeRun(t, prog, []byte(`{"type":"purchase","id":"p","member":"A","partner":"`+
		prog.Partners[0].ID+`","amount":1000,"at":"2026-01-01T00:00:00Z"}`), 1, true, 1)
	good := c.store["p"]
	for name, v := range map[string][]byte{
		"empty":     {},
		"format":    append([]byte{9}, good[1:]...),
		"truncated": good[:len(good)-1],
		"trailing":  append(append([]byte(nil), good...), 0),
		"member":    good, // loaded into an engine without members
	} {
		e, err := Restore(bytes.NewReader(snap))
		if err != nil {
			t.Fatal(err)
		}
		if name == "member" {
			e = NewWithOptions(prog, Options{StoreBacked: true})
		}
		if err := e.LoadRecord([]byte("p"), v, 100); !errors.Is(err, ErrBadRecord) {
			t.Errorf("%s: err %v, want ErrBadRecord", name, err)
		}
		if e.Resident() != 0 {
			t.Errorf("%s: a record was loaded", name)
		}
	}
}

// TestApplyAllocs: a warm engine applies purchases without allocating, in
// both modes (store-backed with its whole caller cycle but the store).
func TestApplyAllocs(t *testing.T) {
	prog := loadProgramFile(t, filepath.Join("..", "testdata", "conformance", "coalition.program.json"))
	for _, storeBacked := range []bool{false, true} {
		e := NewWithOptions(prog, Options{StoreBacked: storeBacked})
		batches := purchaseBatches(prog, 60, 256)
		var (
			res     []Result
			entries []Entry
			missing [][]byte
			pos     uint64
		)
		discard := func(string, []byte) error { return nil }
		k := 0
		step := func() {
			pos++
			missing = e.AppendMissing(batches[k], missing[:0])
			e.SetPosition(pos)
			res, entries = e.Apply(batches[k], res[:0], entries[:0])
			_ = e.AppendDirty(discard)
			e.Evict(1000, pos)
			k++
		}
		for range 8 {
			step() // warm up: members, lots, tables
		}
		for mi := range int32(e.members.len()) {
			// lots grow by doubling per member, not per command: out of the count
			m := e.members.at(mi)
			m.setLots(slices.Grow(m.lots(), 1<<14))
		}
		if n := testing.AllocsPerRun(len(batches)-k-1, step); n != 0 {
			t.Errorf("store-backed %v: %.1f allocations per batch of purchases", storeBacked, n)
		}
	}
}

// purchaseBatches decodes n batches of purchases by 100 members.
func purchaseBatches(prog *Program, n, size int) [][]Command {
	out := make([][]Command, n)
	for b := range out {
		lines := make([]string, size)
		for i := range lines {
			lines[i] = `{"type":"purchase","id":"` + FormatTime(int64(b*size+i)) + `","member":"m` +
				string(rune('a'+i%26)) + string(rune('a'+i%4)) + `","partner":"` + prog.Partners[0].ID +
				`","amount":1234,"at":"2026-01-01T00:00:00Z"}`
		}
		out[b] = decodeLines(lines...)
	}
	return out
}
