package ledger

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// replicaPair builds what two replicas hold after applying the same Raft
// log: each index's entries are the same, but each replica groups indexes
// into ledger batches its own way. The follower has applied up to index
// followerUpTo.
func replicaPair(t testing.TB, seed uint64, indexes, followerUpTo int) (leader, follower *Ledger) {
	t.Helper()
	g := newGen(seed, 40, 3)
	r := rand.New(rand.NewPCG(seed, 7))
	perIndex := make([][]Entry, indexes+1)
	records := make([][]Record, indexes+1)
	for i := 1; i <= indexes; i++ {
		if r.IntN(5) > 0 { // some indexes write nothing (ticks, registers)
			perIndex[i] = g.batch(1 + r.IntN(30))
		}
		records[i] = testRecords(r, i)
	}
	build := func(upTo int, seed uint64) *Ledger {
		l := openMem(t)
		rr := rand.New(rand.NewPCG(seed, 11))
		var es []Entry
		var rs []Record
		for i := 1; i <= upTo; i++ {
			for _, e := range perIndex[i] {
				e.Seq = 0
				es = append(es, e)
			}
			rs = append(rs, records[i]...)
			if i == upTo || rr.IntN(3) == 0 {
				if err := l.AppendWithRecords(uint64(i), es, rs); err != nil {
					t.Fatal(err)
				}
				es, rs = nil, nil
			}
		}
		return l
	}
	return build(indexes, seed+1), build(followerUpTo, seed+2)
}

func mustVerify(t *testing.T, l *Ledger) VerifySummary {
	t.Helper()
	s, err := l.Verify()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestImportFillsTheGapWithTheSameEntries(t *testing.T) {
	for _, tc := range []struct {
		name         string
		followerUpTo int
	}{
		{"empty follower", 0},
		{"follower mid-way", 37},
		{"follower one index behind", 99},
		{"follower up to date", 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leader, follower := replicaPair(t, 42, 100, tc.followerUpTo)
			var buf bytes.Buffer
			last, err := leader.Export(&buf, leader.Position())
			if err != nil {
				t.Fatal(err)
			}
			before := follower.LastSeq()
			s, err := follower.Import(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if s.LastSeq != last || s.Skipped != before || s.Skipped+s.Appended != last {
				t.Fatalf("summary %+v, leader last seq %d, follower had %d", s, last, before)
			}
			ls, fs := mustVerify(t, leader), mustVerify(t, follower)
			if ls.LastSeq != fs.LastSeq || ls.Entries != fs.Entries || ls.Digest != fs.Digest || ls.Members != fs.Members {
				t.Fatalf("after import: leader %+v, follower %+v", ls, fs)
			}
			if lr, fr := allRecords(t, leader), allRecords(t, follower); s.Records != ls.Records || !reflect.DeepEqual(lr, fr) {
				t.Fatalf("records: imported %d, leader holds %d, follower %d", s.Records, len(lr), len(fr))
			}
			if follower.Position() != leader.Position() && tc.followerUpTo < 100 {
				t.Fatalf("follower position %d, leader %d", follower.Position(), leader.Position())
			}
			balances := func(l *Ledger) map[Account]int64 {
				m := map[Account]int64{}
				if err := l.AccountBalances(func(a Account, b int64) error { m[a] = b; return nil }); err != nil {
					t.Fatal(err)
				}
				return m
			}
			lb, fb := balances(leader), balances(follower)
			if len(lb) != len(fb) {
				t.Fatalf("%d accounts vs %d", len(lb), len(fb))
			}
			for a, b := range lb {
				if fb[a] != b {
					t.Fatalf("account %v: leader %d, follower %d", a, b, fb[a])
				}
			}
		})
	}
}

func TestExportStopsAtThePositionAsked(t *testing.T) {
	leader, _ := replicaPair(t, 3, 60, 0)
	var buf bytes.Buffer
	last, err := leader.Export(&buf, 30)
	if err != nil {
		t.Fatal(err)
	}
	f := openMem(t)
	if _, err := f.Import(&buf); err != nil {
		t.Fatal(err)
	}
	if f.Position() > 30 || f.LastSeq() != last || last >= leader.LastSeq() {
		t.Fatalf("imported to position %d seq %d (export said %d, leader at %d)", f.Position(), f.LastSeq(), last, leader.LastSeq())
	}
}

func TestImportRefusesABrokenStreamAndResumes(t *testing.T) {
	leader, follower := replicaPair(t, 9, 80, 20)
	var buf bytes.Buffer
	if _, err := leader.Export(&buf, leader.Position()); err != nil {
		t.Fatal(err)
	}
	full := buf.Bytes()
	if _, err := follower.Import(bytes.NewReader(full[:len(full)*2/3])); err == nil || !strings.Contains(err.Error(), "unexpected EOF") {
		t.Fatalf("truncated stream: err = %v", err)
	}
	mustVerify(t, follower) // whole batches only
	if _, err := follower.Import(bytes.NewReader(full)); err != nil {
		t.Fatal(err)
	}
	if ls, fs := mustVerify(t, leader), mustVerify(t, follower); ls.Digest != fs.Digest {
		t.Fatalf("digest %x vs %x after resuming", ls.Digest, fs.Digest)
	}

	// A stream whose seqs skip is refused before anything is written.
	bad := openMem(t)
	stream := []byte{shipVersion, 0, 0, 5, 2, 1} // no records; batch at position 5 starting at seq 2
	if _, err := bad.Import(bytes.NewReader(stream)); err == nil || bad.LastSeq() != 0 {
		t.Fatalf("skipping seqs: err = %v, last seq %d", err, bad.LastSeq())
	}
}

// FuzzImport feeds the stream decoder arbitrary bytes: it must not panic,
// and whatever it hands to Append must be consecutive, valid entries at
// rising positions.
func FuzzImport(f *testing.F) {
	leader, _ := replicaPair(f, 5, 6, 0)
	var buf bytes.Buffer
	if _, err := leader.Export(&buf, leader.Position()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte{shipVersion, 0, 0, 0, 0})
	f.Add([]byte{shipVersion, 1, 'a', 1, 'x', 2, 'a', 0, 0, 0, 2, 0, 0})
	f.Add([]byte{1, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var seq, pos uint64
		appendFn := func(p uint64, es []Entry) error {
			if p <= pos {
				t.Fatalf("append at position %d after %d", p, pos)
			}
			for i := range es {
				if err := es[i].validate(); err != nil {
					return err
				}
			}
			pos, seq = p, seq+uint64(len(es))
			return nil
		}
		var prev []byte
		var records uint64
		recordsFn := func(rs []Record) error {
			for i := range rs {
				if err := rs[i].validate(); err != nil {
					t.Fatalf("handed an invalid record: %v", err)
				}
				if prev != nil && bytes.Compare(rs[i].ID, prev) <= 0 {
					t.Fatalf("record %q after %q", rs[i].ID, prev)
				}
				prev = append(prev[:0], rs[i].ID...)
			}
			if pos != 0 {
				t.Fatalf("records handed after a batch was appended")
			}
			records += uint64(len(rs))
			return nil
		}
		s, err := importStream(bytes.NewReader(data), func() uint64 { return seq }, func() uint64 { return pos }, appendFn, recordsFn)
		if err == nil && (s.LastSeq != seq || s.Records != records) {
			t.Fatalf("accepted a stream ending at seq %d with %d records, appended up to %d and %d records", s.LastSeq, s.Records, seq, records)
		}
	})
}

// testRecords makes the records of index i: some new ids, and now and then
// a new value for an id an earlier index wrote (a record the batch changed).
func testRecords(r *rand.Rand, i int) []Record {
	var rs []Record
	for j := range r.IntN(4) {
		rs = append(rs, Record{ID: fmt.Appendf(nil, "cmd-%d-%d", i, j), Value: fmt.Appendf(nil, "v%d", r.Uint64())})
	}
	if i > 1 && r.IntN(4) == 0 {
		rs = append(rs, Record{ID: fmt.Appendf(nil, "cmd-%d-0", r.IntN(i-1)+1), Value: fmt.Appendf(nil, "changed at %d", i)})
	}
	return rs
}

// allRecords reads every stored record, id -> value.
func allRecords(t testing.TB, l *Ledger) map[string]string {
	t.Helper()
	m := map[string]string{}
	if err := scan(l.db, []byte{pRecord}, func(k, v []byte) error {
		m[string(k[1:])] = string(v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestImportRefusesAVersion1Stream(t *testing.T) {
	old := []byte{1, 0, 0} // version 1: no batches, last seq 0
	_, err := openMem(t).Import(bytes.NewReader(old))
	if err == nil || !strings.Contains(err.Error(), "stream version 1, want 2") {
		t.Fatalf("version 1 stream: err = %v", err)
	}
}

func TestImportRefusesRecordsOutOfOrder(t *testing.T) {
	stream := []byte{shipVersion, 1, 'b', 1, 'x', 1, 'a', 1, 'y', 0, 2, 0, 0}
	l := openMem(t)
	if _, err := l.Import(bytes.NewReader(stream)); err == nil || !strings.Contains(err.Error(), "out of order") {
		t.Fatalf("records out of order: err = %v", err)
	}
	if len(allRecords(t, l)) != 0 {
		t.Fatal("records written from a refused chunk")
	}
}
