package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
)

// TestReplayWritesVerifiableLedger: `replay --data` stores every entry the
// engine produced, and the stored ledger passes verify; a second run over
// the same input appends nothing twice.
func TestReplayWritesVerifiableLedger(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "conformance")
	prog, err := loadProgram(filepath.Join(dir, "club.program.json"))
	if err != nil {
		t.Fatal(err)
	}
	stream, err := os.ReadFile(filepath.Join(dir, "club.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	var lastSeq uint64
	for run := 0; run < 2; run++ {
		eng := engine.New(prog)
		sink, err := openLedgerSink(data)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		if err := replay(eng, bytes.NewReader(stream), w, sink); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		led := sink.(*ledgerSink).led
		if run == 0 {
			lastSeq = led.LastSeq()
			if lastSeq == 0 {
				t.Fatal("no entries stored")
			}
		} else if led.LastSeq() != lastSeq {
			t.Fatalf("second replay appended again: last seq %d, want %d", led.LastSeq(), lastSeq)
		}
		if err := sink.Close(); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := ledger.VerifyDir(data)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Entries != lastSeq {
		t.Fatalf("verify saw %d entries, want %d", sum.Entries, lastSeq)
	}
}
