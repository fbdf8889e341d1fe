package ledger

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustRecord(t testing.TB, l *Ledger, id string) (string, bool) {
	t.Helper()
	v, ok, err := l.Record([]byte(id), nil)
	if err != nil {
		t.Fatal(err)
	}
	return string(v), ok
}

func TestRecordsAreWrittenWithTheirBatch(t *testing.T) {
	l := openMem(t)
	g := newGen(1, 10, 2)
	rs := []Record{{ID: []byte("a"), Value: []byte("first")}, {ID: []byte("b"), Value: nil}}
	if err := l.AppendWithRecords(1, g.batch(3), rs); err != nil {
		t.Fatal(err)
	}
	// The caller may reuse its buffers once the append returns.
	rs[0].Value[0] = 'X'
	if v, ok := mustRecord(t, l, "a"); !ok || v != "first" {
		t.Fatalf("a = %q, %v", v, ok)
	}
	if v, ok := mustRecord(t, l, "b"); !ok || v != "" {
		t.Fatalf("b = %q, %v (an empty value is a record)", v, ok)
	}
	if _, ok := mustRecord(t, l, "c"); ok {
		t.Fatal("c found")
	}
	// A later batch overwrites; a batch without entries still writes records.
	if err := l.AppendWithRecords(2, nil, []Record{{ID: []byte("a"), Value: []byte("second")}}); err != nil {
		t.Fatal(err)
	}
	if v, _ := mustRecord(t, l, "a"); v != "second" || l.Position() != 2 {
		t.Fatalf("a = %q at position %d", v, l.Position())
	}
	if s := mustVerify(t, l); s.Records != 2 {
		t.Fatalf("verify counts %d records, want 2", s.Records)
	}
}

func TestAppendWithRecordsRefusesBadRecordsBeforeWriting(t *testing.T) {
	l := openMem(t)
	g := newGen(1, 10, 2)
	for _, bad := range []Record{{ID: nil}, {ID: make([]byte, maxCommandIDLen+1)}, {ID: []byte("v"), Value: make([]byte, maxRecordValueLen+1)}} {
		err := l.AppendWithRecords(1, g.batch(2), []Record{{ID: []byte("ok")}, bad})
		if err == nil || l.Position() != 0 {
			t.Fatalf("bad record (id %d B, value %d B): err %v, position %d", len(bad.ID), len(bad.Value), err, l.Position())
		}
	}
	if _, ok := mustRecord(t, l, "ok"); ok {
		t.Fatal("a record of a refused batch was written")
	}
	// Refused, not broken: the handle still appends.
	if err := l.AppendWithRecords(1, g.batch(2), []Record{{ID: []byte("ok")}}); err != nil {
		t.Fatal(err)
	}
}

func TestRecordReadsWithoutAllocating(t *testing.T) {
	l := openMem(t)
	if err := l.AppendWithRecords(1, nil, []Record{{ID: []byte("payback-1"), Value: []byte("0123456789abcdef")}}); err != nil {
		t.Fatal(err)
	}
	if err := l.db.Flush(); err != nil { // read from a table, not only the memtable
		t.Fatal(err)
	}
	dst := make([]byte, 0, 64)
	r := l.NewRecordReader()
	defer r.Close()
	for _, id := range []string{"payback-1", "payback-2"} {
		key := []byte(id)
		if n := testing.AllocsPerRun(100, func() { dst, _, _ = l.Record(key, dst[:0]) }); n != 0 {
			t.Errorf("Record(%s): %.1f allocations per call", id, n)
		}
		if n := testing.AllocsPerRun(100, func() { dst, _, _ = r.Record(key, dst[:0]) }); n != 0 {
			t.Errorf("RecordReader.Record(%s): %.1f allocations per call", id, n)
		}
	}
}

// TestRecordsReadWhileAppending: the apply goroutine reads records while the
// ledger writer appends; a reader, by Ledger.Record or a RecordReader, sees
// every record of the batches whose position it has seen (run with -race).
func TestRecordsReadWhileAppending(t *testing.T) {
	l := openMem(t)
	const batches = 300
	r := l.NewRecordReader()
	defer r.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var dst []byte
		for pos, n := l.Position(), 0; pos < batches; pos, n = l.Position(), n+1 {
			if pos == 0 {
				continue
			}
			id := fmt.Appendf(nil, "id-%d", pos)
			read := map[bool]func([]byte, []byte) ([]byte, bool, error){false: l.Record, true: r.Record}[n%2 == 0]
			var ok bool
			var err error
			dst, ok, err = read(id, dst[:0])
			if err != nil || !ok || string(dst) != fmt.Sprint(pos) {
				t.Errorf("at position %d: record %s = %q, %v, %v", pos, id, dst, ok, err)
				return
			}
		}
	}()
	for pos := uint64(1); pos <= batches; pos++ {
		rs := []Record{{ID: fmt.Appendf(nil, "id-%d", pos), Value: fmt.Append(nil, pos)}}
		if err := l.AppendWithRecords(pos, nil, rs); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
}

// TestAStoreHoldingOnlyRecordsOpens: Import writes a stream's records before
// its first batch, so a crash in between leaves records without meta.
func TestAStoreHoldingOnlyRecordsOpens(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.putRecords([]Record{{ID: []byte("x"), Value: []byte("1")}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyDir(dir); err != nil {
		t.Fatal(err)
	}
	l, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if v, ok := mustRecord(t, l, "x"); !ok || v != "1" || l.Position() != 0 {
		t.Fatalf("x = %q, %v at position %d", v, ok, l.Position())
	}
	// Anything else without meta is still corruption.
	if err := l.Append(1, nil); err != nil {
		t.Fatal(err)
	}
	if err := l.db.Delete(metaKey, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := verifyReader(l.db); err == nil || !strings.Contains(err.Error(), "meta key missing") {
		t.Fatalf("batch without meta: err = %v", err)
	}
}

var benchRecords = flag.Int("ledger.records", 2_000_000, "records in the BenchmarkRecordLookup* stores")

// recordStore builds a store of n records "payback-<i>" (32-byte values) in
// batches of 10k, then flushes and compacts it into one level: the fewest
// tables a miss must consult, so the filters' saving is if anything
// understated. Everything fits the block cache: this measures the CPU path.
func recordStore(b *testing.B, n int, filters bool) *Ledger {
	l, err := Open(b.TempDir(), Options{noFilters: !filters})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	start := time.Now()
	const per = 10_000
	rs := make([]Record, per)
	val := []byte("0123456789abcdef0123456789abcdef")
	for i := 0; i < n; i += per {
		rs = rs[:0]
		for j := i; j < min(i+per, n); j++ {
			rs = append(rs, Record{ID: fmt.Appendf(nil, "payback-%d", j), Value: val})
		}
		if err := l.AppendWithRecords(uint64(i/per+1), nil, rs); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.db.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := l.db.Compact(context.Background(), []byte{0}, []byte{0xff}, true); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d records in %s, %d MiB of tables", n, time.Since(start).Round(time.Millisecond), l.db.Metrics().Total().TablesSize>>20)
	return l
}

// benchLookups looks up ids "payback-<from + random below n>": stored ids
// for from = 0, new ones (interleaved with the stored ids in key order, so
// inside every table's key range) for from = n; with and without bloom
// filters, by Ledger.Record (an iterator per read) and by a RecordReader
// (one iterator, reopened only after writes; none happen here).
func benchLookups(b *testing.B, from int, wantFound bool) {
	for _, filters := range []bool{false, true} {
		n := *benchRecords
		l := recordStore(b, n, filters)
		for _, reader := range []bool{false, true} {
			name := map[bool]string{false: "filter=none", true: "filter=bloom10"}[filters] +
				map[bool]string{false: "/read=Record", true: "/read=RecordReader"}[reader]
			b.Run(name, func(b *testing.B) {
				read := l.Record
				if reader {
					r := l.NewRecordReader()
					defer r.Close()
					read = r.Record
				}
				ids := make([][]byte, 1<<16)
				rng := rand.New(rand.NewPCG(1, 2))
				for i := range ids {
					ids[i] = fmt.Appendf(nil, "payback-%d", from+rng.IntN(n))
				}
				dst := make([]byte, 0, 64)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					var ok bool
					var err error
					dst, ok, err = read(ids[i&(len(ids)-1)], dst[:0])
					if err != nil || ok != wantFound {
						b.Fatalf("Record(%s) = %v, %v", ids[i&(len(ids)-1)], ok, err)
					}
					i++
				}
			})
		}
		l.Close()
	}
}

// BenchmarkRecordLookupMissing: the common case, a new command's id.
func BenchmarkRecordLookupMissing(b *testing.B) { benchLookups(b, *benchRecords, false) }

// BenchmarkRecordLookupHit: a duplicate, or an original a refund names.
func BenchmarkRecordLookupHit(b *testing.B) { benchLookups(b, 0, true) }
