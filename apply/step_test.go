package apply

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
)

func loadProgram(tb testing.TB, name string) *engine.Program {
	tb.Helper()
	src, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	p, err := engine.ParseProgram(src)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// demoBatch decodes testdata/demo.ndjson (blank lines skipped) into one batch.
func demoBatch(tb testing.TB) []engine.Command {
	tb.Helper()
	src, err := os.ReadFile(filepath.Join("..", "testdata", "demo.ndjson"))
	if err != nil {
		tb.Fatal(err)
	}
	var dec engine.Decoder
	var cmds []engine.Command
	for _, l := range bytes.Split(src, []byte("\n")) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			cmds = append(cmds, engine.Command{})
			dec.Decode(l, &cmds[len(cmds)-1])
		}
	}
	return cmds
}

// TestStepRendersAsTheEngine: the step's NDJSON, line ends and ledger
// entries are what the engine's own calls give for the same batch.
func TestStepRendersAsTheEngine(t *testing.T) {
	prog := loadProgram(t, "coalition.yaml")
	cmds := demoBatch(t)
	ref := engine.New(prog)
	wantRes, wantEnts := ref.Apply(cmds, nil, nil)
	var want []byte
	for i := range wantRes {
		want = append(ref.AppendJSON(want, &wantRes[i]), '\n')
	}

	s := New(engine.New(prog))
	res, ents := s.Apply(cmds)
	if len(res) != len(cmds) || len(ents) != len(wantEnts) || len(ents) == 0 {
		t.Fatalf("%d results, %d entries; want %d, %d", len(res), len(ents), len(cmds), len(wantEnts))
	}
	if got := s.AppendNDJSON([]byte("x")); string(got) != "x"+string(want) {
		t.Fatalf("NDJSON:\n%s\nwant:\n%s", got, want)
	}
	got, ends := s.AppendNDJSONEnds(nil, nil)
	if !bytes.Equal(got, want) || len(ends) != len(cmds) {
		t.Fatalf("AppendNDJSONEnds: %d bytes, %d ends", len(got), len(ends))
	}
	start := int32(0)
	for i, end := range ends {
		line := got[start:end]
		if line[len(line)-1] != '\n' || bytes.IndexByte(line[:len(line)-1], '\n') >= 0 {
			t.Fatalf("line %d = %q is not one line", i, line)
		}
		start = end
	}
	lents := s.LedgerEntries(make([]ledger.Entry, 1))[1:]
	for i, e := range wantEnts {
		le := lents[i]
		if le.AtMS != e.AtMS || le.CommandID != e.CommandID || le.Points != e.Points || le.Kind.String() != e.Kind.String() ||
			le.Debit.Owner != ref.AccountOwner(e.Debit) || le.Credit.Owner != ref.AccountOwner(e.Credit) {
			t.Errorf("entry %d: %+v from %+v", i, le, e)
		}
	}
}

// TestAppendLedger: a batch is appended at a new position in one append,
// and not again at a position the ledger holds.
func TestAppendLedger(t *testing.T) {
	led, err := ledger.Open(t.TempDir(), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	s := New(engine.New(loadProgram(t, "coalition.yaml")))
	_, ents := s.Apply(demoBatch(t))
	if err := s.AppendLedger(led, 7); err != nil {
		t.Fatal(err)
	}
	if led.Position() != 7 || led.LastSeq() != uint64(len(ents)) {
		t.Fatalf("position %d, last seq %d; want 7, %d", led.Position(), led.LastSeq(), len(ents))
	}
	for _, pos := range []uint64{3, 7} {
		if err := s.AppendLedger(led, pos); err != nil {
			t.Fatal(err)
		}
	}
	if led.Position() != 7 || led.LastSeq() != uint64(len(ents)) {
		t.Fatalf("a held position appended again: position %d, last seq %d", led.Position(), led.LastSeq())
	}
}

// purchaseBatch is a batch of purchases whose ids are rewritten in place,
// so that building the next batch allocates nothing.
type purchaseBatch struct {
	lines [][]byte
	idAt  int // offset of the id's digits in each line
	next  int
	dec   engine.Decoder
	cmds  []engine.Command
}

const purchaseLine = `{"type":"purchase","id":"p-0000000000","member":"m-00","partner":"grocer","amount":4200,"at":"2026-11-02T09:00:00Z"}`

func newPurchaseBatch(n int) *purchaseBatch {
	b := &purchaseBatch{idAt: len(`{"type":"purchase","id":"p-`), cmds: make([]engine.Command, n)}
	member := len(`{"type":"purchase","id":"p-0000000000","member":"m-`)
	for i := range n {
		l := []byte(purchaseLine)
		l[member], l[member+1] = byte('0'+i/10%10), byte('0'+i%10)
		b.lines = append(b.lines, l)
	}
	return b
}

// fill gives every line a fresh id and decodes the batch.
func (b *purchaseBatch) fill() []engine.Command {
	b.dec.Reset()
	for i, l := range b.lines {
		b.next++
		n := b.next
		for j := b.idAt + 9; j >= b.idAt; j-- {
			l[j] = byte('0' + n%10)
			n /= 10
		}
		b.dec.Decode(l, &b.cmds[i])
	}
	return b.cmds
}

// BenchmarkStep is the apply path of one batch of 16 purchases with fresh
// ids by 16 members: decode, Apply, LedgerEntries and AppendNDJSON into
// reused buffers. After warm-up it allocates nothing (0 allocs/op).
func BenchmarkStep(b *testing.B) {
	batch := newPurchaseBatch(16)
	s := New(engine.New(loadProgram(b, "coalition.yaml")))
	var (
		lents []ledger.Entry
		out   []byte
		ends  []int32
	)
	run := func() {
		s.Apply(batch.fill())
		lents = s.LedgerEntries(lents[:0])
		out, ends = s.AppendNDJSONEnds(out[:0], ends[:0])
	}
	for range 1000 {
		run()
	}
	if res, _ := s.Apply(batch.fill()); !res[0].OK() {
		b.Fatalf("purchase refused: %s", s.AppendNDJSON(nil))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		run()
	}
	b.ReportMetric(float64(b.N*len(batch.cmds))/b.Elapsed().Seconds(), "cmds/s")
}
