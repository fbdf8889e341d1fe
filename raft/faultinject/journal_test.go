package faultinject

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
)

func writeJournal(t *testing.T, dir string, recs func(j *journal)) string {
	t.Helper()
	path := filepath.Join(dir, JournalName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	j, err := openJournal(path, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	recs(j)
	j.close()
	return path
}

func cmdLogs(from, to uint64, data string) []*hraft.Log {
	var out []*hraft.Log
	for i := from; i <= to; i++ {
		out = append(out, &hraft.Log{Index: i, Term: 1, Type: hraft.LogCommand, Data: []byte(data)})
	}
	return out
}

func TestReplayJournalsRefusesHolesAndDisagreements(t *testing.T) {
	p := loadProgram(t, "coalition")
	dir := t.TempDir()
	a := writeJournal(t, filepath.Join(dir, "a"), func(j *journal) { j.logs(cmdLogs(1, 5, "x")) })
	b := writeJournal(t, filepath.Join(dir, "b"), func(j *journal) {
		j.segment(8) // restored a snapshot at 8: knows nothing of 6..8
		j.logs(cmdLogs(9, 10, "x"))
	})
	if _, err := ReplayJournals([]string{a, b}, p, 10, t.TempDir()); err == nil || !strings.Contains(err.Error(), "up to 5 only") {
		t.Fatalf("hole: err = %v", err)
	}
	c := writeJournal(t, filepath.Join(dir, "c"), func(j *journal) {
		j.logs(cmdLogs(1, 2, "x"))
		j.logs(cmdLogs(3, 3, "y"))
	})
	if _, err := ReplayJournals([]string{a, c}, p, 5, t.TempDir()); err == nil || !strings.Contains(err.Error(), "log 3 differs") {
		t.Fatalf("disagreement: err = %v", err)
	}
	// A record torn by a kill ends that journal; the rest is still read.
	raw, _ := os.ReadFile(a)
	os.WriteFile(a, raw[:len(raw)-1], 0o600)
	segs, err := scanJournal(a)
	if err != nil || len(segs) != 1 || segs[0].end != 4 {
		t.Fatalf("torn journal: %v, segments %d", err, len(segs))
	}
}
