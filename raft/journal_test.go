package raft

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"
)

// The journals of a cluster in which a follower caught up by snapshot
// install replay, offline and in log order, to the state every replica
// reports at the same index.
func TestJournalsReplayToTheReplicasState(t *testing.T) {
	p := loadProgram(t, "coalition")
	tweak := func(c *Config) {
		c.SnapshotThreshold, c.TrailingLogs, c.SnapshotInterval = 4, 2, 50*time.Millisecond
		c.FaultsFile = filepath.Join(c.DataDir, "faults.json") // faults on, no rules: journals kept
	}
	nodes := startCluster(t, p, 3, tweak)
	defer func() { closeAll(nodes) }()
	write := func(prefix string, batches int) {
		for b := range batches {
			if _, err := submitRetry(t, nodes, purchases(t, p, prefix, b*20, 20)); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("a", 10)
	l := waitLeader(t, nodes...)
	fi := 1
	if nodes[1] == l {
		fi = 2
	}
	fcfg := nodes[fi].cfg
	nodes[fi].Close()
	nodes[fi] = nil
	write("b", 30)
	waitFor(t, "log compaction", 10*time.Second, func() bool {
		first, _ := l.logs.FirstIndex()
		return first > 20
	})
	nodes[fi] = startNode(t, fcfg) // behind the compacted log: installs a snapshot
	write("c", 5)
	waitConverged(t, nodes)

	at := uint64(0)
	for _, n := range nodes {
		at = max(at, n.AppliedIndex()+1)
	}
	wait := askHashes(t, nodes, at)
	time.Sleep(50 * time.Millisecond) // let the requests register
	write("d", 1)
	answers := wait()
	closeAll(nodes)
	nodes = nil

	for i := range answers {
		if answers[i] != answers[0] {
			t.Fatalf("replicas answered %+v and %+v", answers[0], answers[i])
		}
	}
	paths := journalPaths(t)
	if len(paths) != 3 {
		t.Fatalf("journals: %v", paths)
	}
	r, err := ReplayJournals(paths, p, answers[0].index, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if r.StateHash != answers[0].hash || r.Compared == 0 {
		t.Fatalf("replay %+v; replicas' hash %x at %d", r, answers[0].hash, answers[0].index)
	}
}

// journalPaths finds the journals of this test's nodes (each node's data
// directory is under its own temporary directory).
func journalPaths(t *testing.T) []string {
	t.Helper()
	root := filepath.Dir(t.TempDir())
	var out []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == JournalName {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func writeJournal(t *testing.T, dir string, recs func(j *journal)) string {
	t.Helper()
	path := filepath.Join(dir, JournalName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	j, err := openJournal(path)
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
