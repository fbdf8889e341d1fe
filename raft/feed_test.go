package raft

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/accrual/accrual/ledger"
)

// changeLine is a change as the tests compare it: entry and balances.
type changeLine struct {
	E ledger.Entry
	M []ledger.MemberBalance
}

// feedLines reads a replica's change feed after `after`, pages of `page`,
// as JSON lines (entry and balances), until the ledger's end.
func feedLines(t *testing.T, n *testNode, after uint64, page int) []string {
	t.Helper()
	var out []string
	for {
		got, err := n.Ledger().Changes(after, page, func(c *ledger.Change) error {
			b, err := json.Marshal(changeLine{c.Entry, c.Members})
			out = append(out, string(b))
			after = c.Seq
			return err
		})
		if err != nil {
			t.Fatalf("%s: Changes: %v", n.cfg.NodeID, err)
		}
		if got == 0 {
			return out
		}
	}
}

// The change feed is the same on every replica of a 3-node cluster: the
// same entries, in the same order, with the same cursors and balances, read
// whole or resumed from any cursor on any replica; a wait opened on each
// replica before the writes returns once they are in its ledger.
func TestChangeFeedEqualOnEveryReplica(t *testing.T) {
	p := loadProgram(t, "coalition")
	nodes := startCluster(t, p, 3, nil)
	defer func() { closeAll(nodes) }()

	woke := make(chan error, len(nodes))
	for _, n := range nodes {
		start := n.Ledger().LastSeq()
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			woke <- n.WaitLedger(ctx, start)
		}()
	}
	for i := range 5 {
		if _, err := submitRetry(t, nodes, purchases(t, p, "feed", i*40, 40)); err != nil {
			t.Fatal(err)
		}
	}
	for range nodes {
		if err := <-woke; err != nil {
			t.Fatalf("WaitLedger: %v", err)
		}
	}
	waitConverged(t, nodes)

	want := feedLines(t, nodes[0], 0, 1000)
	if len(want) < 200 {
		t.Fatalf("feed has %d entries, want at least one per purchase", len(want))
	}
	for _, n := range nodes[1:] {
		if got := feedLines(t, n, 0, 1000); !slices.Equal(got, want) {
			t.Fatalf("node %s: feed differs from n1's", n.cfg.NodeID)
		}
	}
	// Resumed from each page's last cursor on the next replica.
	var joined []string
	for after, i := uint64(0), 0; ; i++ {
		var page []string
		if _, err := nodes[i%3].Ledger().Changes(after, 13, func(c *ledger.Change) error {
			b, err := json.Marshal(changeLine{c.Entry, c.Members})
			page = append(page, string(b))
			after = c.Seq
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		joined = append(joined, page...)
	}
	if !slices.Equal(joined, want) {
		t.Fatalf("the feed resumed across replicas (%d lines) differs from one read (%d)", len(joined), len(want))
	}
}

// WaitLedger ends with ctx's error when nothing is written, and at once
// when the ledger already holds an entry after the cursor.
func TestWaitLedgerEnds(t *testing.T) {
	p := loadProgram(t, "coalition")
	nodes := startCluster(t, p, 1, nil)
	defer func() { closeAll(nodes) }()
	n := nodes[0]
	if _, err := submitRetry(t, nodes, purchases(t, p, "w", 0, 3)); err != nil {
		t.Fatal(err)
	}
	syncLedger(t, n)
	last := n.Ledger().LastSeq()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := n.WaitLedger(ctx, last); err != context.DeadlineExceeded {
		t.Fatalf("WaitLedger at the end: %v, want the deadline", err)
	}
	if err := n.WaitLedger(context.Background(), last-1); err != nil {
		t.Fatalf("WaitLedger before the end: %v", err)
	}
}
