package ledger

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var crashRuns = flag.Int("ledger.crashruns", 5, "SIGKILL runs in TestCrashSafety (env LEDGER_CRASH_RUNS overrides)")

// crashNext is the deterministic position sequence of the crash helper.
func crashNext(pos uint64) uint64 { return pos + 1 + (pos*31)%3 }

// crashBatch is the deterministic content of the batch at a position.
func crashBatch(pos uint64) []Entry {
	g := newGen(pos, 500, 4)
	g.clock += int64(pos) * 60_000
	return g.batch(20 + int(pos*7919%900))
}

// crashRecords are the command records written with the batch at a
// position: new ids, and the id "hot" that every batch rewrites.
func crashRecords(pos uint64) []Record {
	rs := []Record{{ID: []byte("hot"), Value: strconv.AppendUint(nil, pos, 10)}}
	for j := range pos % 5 {
		rs = append(rs, Record{ID: fmt.Appendf(nil, "r-%d-%d", pos, j), Value: fmt.Appendf(nil, "%d/%d", pos, j)})
	}
	return rs
}

// TestHelperProcess is the child of TestCrashSafety: it appends batches
// until killed, printing each acknowledged position.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv("LEDGER_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process for TestCrashSafety")
	}
	l, err := Open(dir, Options{Sync: os.Getenv("LEDGER_CRASH_SYNC") == "1", MemTableSize: 1 << 20})
	if err != nil {
		fmt.Printf("err %v\n", err)
		os.Exit(2)
	}
	pos := l.Position()
	for i := 0; i < 1_000_000; i++ {
		pos = crashNext(pos)
		if err := l.AppendWithRecords(pos, crashBatch(pos), crashRecords(pos)); err != nil {
			fmt.Printf("err %v\n", err)
			os.Exit(2)
		}
		fmt.Printf("ok %d\n", pos) // unbuffered: one write per line
	}
	os.Exit(0)
}

// TestCrashSafety kills a child that appends in a loop with SIGKILL at
// random moments; after each reopen the store must hold whole batches only
// (a prefix of the deterministic sequence), Position() must name the last
// whole batch, synced appends must survive, and Verify must pass.
func TestCrashSafety(t *testing.T) {
	runs := *crashRuns
	if s := os.Getenv("LEDGER_CRASH_RUNS"); s != "" {
		runs, _ = strconv.Atoi(s)
	}
	if testing.Short() {
		runs = min(runs, 2)
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for run := 0; run < runs; run++ {
		sync := run%2 == 0
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "LEDGER_CRASH_DIR="+dir, fmt.Sprintf("LEDGER_CRASH_SYNC=%d", map[bool]int{true: 1}[sync]))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := make(chan uint64, 1<<16)
		done := make(chan struct{})
		go func() {
			defer close(done)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				line := sc.Text()
				if p, ok := strings.CutPrefix(line, "ok "); ok {
					n, _ := strconv.ParseUint(p, 10, 64)
					select {
					case acked <- n:
					default:
					}
				} else if strings.HasPrefix(line, "err ") {
					t.Errorf("child: %s", line)
				}
			}
		}()
		// Wait for the first acknowledged batch, then kill at a random moment.
		select {
		case <-acked:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatal("child acknowledged nothing")
		}
		time.Sleep(time.Duration(10+rng.IntN(300)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		<-done
		var lastAck uint64
		for len(acked) > 0 {
			lastAck = <-acked
		}
		checkCrashStore(t, dir, run, sync, lastAck)
	}
}

func checkCrashStore(t *testing.T, dir string, run int, sync bool, lastAck uint64) {
	t.Helper()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("run %d: reopen: %v", run, err)
	}
	defer l.Close()
	pos := l.Position()
	if sync && pos < lastAck {
		t.Fatalf("run %d: position %d < last synced ack %d", run, pos, lastAck)
	}
	// Replay the deterministic sequence up to pos: it must land exactly on pos.
	var want []Entry
	p := uint64(0)
	batches, records := uint64(0), uint64(0)
	for p < pos {
		p = crashNext(p)
		records += p % 5
		es := crashBatch(p)
		for i := range es {
			es[i].Seq = uint64(len(want) + i + 1)
		}
		want = append(want, es...)
		batches++
	}
	if p != pos {
		t.Fatalf("run %d: position %d is not on the batch sequence", run, pos)
	}
	if l.LastSeq() != uint64(len(want)) {
		t.Fatalf("run %d: last seq %d, whole batches up to position %d hold %d entries", run, l.LastSeq(), pos, len(want))
	}
	br, err := newBlockReader(l.db)
	if err != nil {
		t.Fatal(err)
	}
	defer br.close()
	for i := range want {
		raw, err := br.get(uint64(i + 1))
		if err != nil {
			t.Fatalf("run %d: seq %d: %v", run, i+1, err)
		}
		got, err := l.entry(l.db, raw)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Fatalf("run %d: seq %d = %+v, want %+v", run, i+1, got, want[i])
		}
	}
	s, err := l.Verify()
	if err != nil {
		t.Fatalf("run %d: verify: %v", run, err)
	}
	if s.Batches != batches {
		t.Fatalf("run %d: %d batches, want %d", run, s.Batches, batches)
	}
	checkCrashRecords(t, l, run, pos, records+min(batches, 1), s.Records)
	t.Logf("run %d (sync=%v): killed after ack %d, recovered position %d, %d batches, %d entries", run, sync, lastAck, pos, batches, len(want))
}

// checkCrashRecords: the records are those of the whole batches up to pos,
// no more and no fewer: "hot" holds pos, and the next batch's ids are absent.
func checkCrashRecords(t *testing.T, l *Ledger, run int, pos, want, got uint64) {
	t.Helper()
	if got != want {
		t.Fatalf("run %d: %d records, the batches up to position %d wrote %d", run, got, pos, want)
	}
	if pos == 0 {
		return
	}
	v, ok, err := l.Record([]byte("hot"), nil)
	if err != nil || !ok || string(v) != strconv.FormatUint(pos, 10) {
		t.Fatalf("run %d: record hot = %q, %v, %v; want the position %d", run, v, ok, err, pos)
	}
	next := crashNext(pos)
	for _, r := range crashRecords(next)[1:] {
		if _, ok, _ := l.Record(r.ID, nil); ok {
			t.Fatalf("run %d: record %s of position %d after recovering to %d", run, r.ID, next, pos)
		}
	}
}
