package raft

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// An ingest entry applies its commands and moves its partitions' offsets
// together; one that does not start at the replicated offsets (a stale
// proposer) applies nothing, on every replica.
func TestIngestAppliesOnlyAtTheReplicatedOffsets(t *testing.T) {
	p := loadProgram(t, "club")
	nodes := startCluster(t, p, 3, nil)
	defer closeAll(nodes)
	l := waitLeader(t, nodes...)
	ctx := context.Background()
	a := purchases(t, p, "a", 0, 3)
	tests := []struct {
		name   string
		ranges []IngestRange
		lines  int
		err    error
	}{
		{"a new partition starts anywhere", []IngestRange{{"t", 0, 7, 10}}, 3, nil},
		{"the next entry starts where the last ended", []IngestRange{{"t", 0, 10, 12}, {"t", 1, 0, 1}}, 3, nil},
		{"a replayed entry is stale", []IngestRange{{"t", 0, 10, 12}}, 0, ErrIngestStale},
		{"a gap is stale", []IngestRange{{"t", 1, 2, 3}}, 0, ErrIngestStale},
		{"messages that were all invalid move the partition on", []IngestRange{{"t", 1, 1, 4}}, 0, nil},
	}
	for i, tc := range tests {
		cmds := purchases(t, p, fmt.Sprint("c", i), 0, tc.lines)
		if tc.err != nil {
			cmds = a
		}
		out, err := l.SubmitIngest(ctx, cmds, tc.ranges)
		if !errors.Is(err, tc.err) {
			t.Fatalf("%s: err %v, want %v", tc.name, err, tc.err)
		}
		if got := len(splitLines(out)); err == nil && tc.lines > 0 && got != tc.lines {
			t.Fatalf("%s: %d result lines, want %d", tc.name, got, tc.lines)
		}
	}
	want := []IngestOffset{{"t", 0, 12}, {"t", 1, 4}}
	waitConverged(t, nodes)
	for _, n := range nodes {
		if got := n.IngestOffsets(); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: offsets %v, want %v", n.cfg.NodeID, got, want)
		}
	}
	if got := l.Node.fsm.eng.Members(); got != 6 {
		t.Fatalf("%d members, want 6 (the stale entries applied nothing)", got)
	}
}

// The offsets are in the snapshot: a node restarted from a snapshot that
// covers every ingest entry (its log compacted) has them back.
func TestIngestOffsetsSurviveSnapshotAndRestart(t *testing.T) {
	p := loadProgram(t, "club")
	cfg := testConfig(t, "n1", p, true)
	cfg.TrailingLogs = 0
	n := startNode(t, cfg)
	waitLeader(t, n)
	for i := range int64(8) {
		if _, err := n.SubmitIngest(context.Background(), purchases(t, p, "s", int(i), 1), []IngestRange{{"bank", 2, i, i + 1}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	want := n.IngestOffsets()
	n.Close()
	n = startNode(t, cfg)
	defer n.Close()
	waitLeader(t, n)
	if got := n.IngestOffsets(); !reflect.DeepEqual(got, want) || want[0].Next != 8 {
		t.Fatalf("offsets after restart %v, before %v (want next 8)", got, want)
	}
}
