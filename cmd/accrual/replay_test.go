package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/accrual/accrual/apply"
	"github.com/accrual/accrual/bench/workload"
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
		sink, err := openLedgerSink(data)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		if err := replay(sink.step(prog, 1), bytes.NewReader(stream), w, sink); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		led := sink.led
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

// TestReplaySameBytesWhateverTheWindow: replay with the command records in
// the data directory and only one of them resident gives the same result
// lines, member dump and ledger as with all of them resident, and as
// without a data directory at all (SPEC §6: any id ever seen still answers
// duplicate or id_conflict; refunds, cancellations, captures and releases
// still find their original however old).
func TestReplaySameBytesWhateverTheWindow(t *testing.T) {
	streams := map[string]history{}
	dir := filepath.Join("..", "..", "testdata", "conformance")
	for _, name := range []string{"coalition", "cashback", "airline", "club"} {
		prog, err := loadProgram(filepath.Join(dir, name+".program.json"))
		if err != nil {
			t.Fatal(err)
		}
		stream, err := os.ReadFile(filepath.Join(dir, name+".ndjson"))
		if err != nil {
			t.Fatal(err)
		}
		streams[name] = history{name: name, prog: prog, stream: stream}
	}
	streams["payback-workload"] = workloadHistory(t, workload.Payback, 2_000, 30_000)
	for name, h := range streams {
		t.Run(name, func(t *testing.T) {
			want := replayOnce(t, h, nil, 0)
			var digest uint64
			for _, window := range []int{1, 7, 1 << 30} {
				data := t.TempDir()
				if got := replayOnce(t, h, &data, window); !bytes.Equal(got, want) {
					t.Fatalf("window %d: output differs from the keep-all replay (%d vs %d bytes)", window, len(got), len(want))
				}
				sum, err := ledger.VerifyDir(data)
				if err != nil {
					t.Fatal(err)
				}
				if digest == 0 {
					digest = sum.Digest
				} else if sum.Digest != digest {
					t.Fatalf("window %d: ledger digest %x, want %x", window, sum.Digest, digest)
				}
			}
		})
	}
}

// replayOnce replays h and returns its result lines and member dump; with
// data, into that directory with recordsInMemory records resident.
func replayOnce(t *testing.T, h history, data *string, recordsInMemory int) []byte {
	t.Helper()
	step := apply.New(engine.New(h.prog))
	var sink *ledgerSink
	if data != nil {
		var err error
		if sink, err = openLedgerSink(*data); err != nil {
			t.Fatal(err)
		}
		defer sink.Close()
		step = sink.step(h.prog, recordsInMemory)
	}
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	if err := replay(step, bytes.NewReader(h.stream), w, sink); err != nil {
		t.Fatal(err)
	}
	err := step.Engine().Dump(func(v *engine.MemberView) error {
		_, err := w.Write(append(engine.AppendDumpJSON(nil, v), '\n'))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Flush()
	return out.Bytes()
}
