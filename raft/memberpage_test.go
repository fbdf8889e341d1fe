package raft

import (
	"context"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/accrual/accrual/engine"
)

// TestMemberOrderPagesInByteOrder: ids added in any batches come back in
// byte order from any cursor, each once, and compaction keeps the runs
// logarithmic in number.
func TestMemberOrderPagesInByteOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var o memberOrder
	var all []string
	for batch := range 200 {
		ids := make([]string, rng.IntN(300))
		for i := range ids {
			ids[i] = fmt.Sprintf("m%d-%d", rng.IntN(1e6), batch*1000+i) // unique
		}
		all = append(all, ids...)
		o.add(slices.Clone(ids))
		o.compact()
	}
	slices.Sort(all)
	if bound := bits.Len(uint(len(all))) + 1; len(o.runs) > bound {
		t.Fatalf("%d runs for %d ids, want ≤ log2(n)+1 (%d)", len(o.runs), len(all), bound)
	}
	for _, tc := range []struct {
		after string
		n     int
	}{{"", 10}, {"", len(all) + 5}, {all[0], 3}, {all[500], 1000}, {all[len(all)-1], 5}, {"m5", 50}} {
		got := o.after(nil, tc.after, tc.n)
		i, _ := slices.BinarySearch(all, tc.after)
		if i < len(all) && all[i] == tc.after {
			i++
		}
		want := all[i:min(len(all), i+tc.n)]
		if !slices.Equal(got, want) {
			t.Fatalf("after %q n %d: got %d ids %q…, want %d %q…", tc.after, tc.n, len(got), got[:min(3, len(got))], len(want), want[:min(3, len(want))])
		}
	}
}

// TestMemberPageEqualsDump: paging a node that applied a conformance stream
// gives, page after page, exactly the offline engine's dump (member views
// computed at the clock), and a page knows whether more follow.
func TestMemberPageEqualsDump(t *testing.T) {
	for _, name := range []string{"club", "airline"} {
		t.Run(name, func(t *testing.T) {
			p := loadProgram(t, name)
			cmds := loadCommands(t, name)
			n := startNode(t, testConfig(t, "n1", p, true))
			defer n.Close()
			waitLeader(t, n)
			for i := 0; i < len(cmds); i += 100 {
				if _, err := submitRetry(t, []*testNode{n}, cmds[i:min(len(cmds), i+100)]); err != nil {
					t.Fatal(err)
				}
			}
			_, eng, _ := offline(p, cmds)
			var want []engine.MemberView
			_ = eng.Dump(func(v *engine.MemberView) error { want = append(want, *v); return nil })
			for _, limit := range []int{1, 7, len(want), 1000} {
				got := pageAll(t, n.Node, limit)
				if !slices.EqualFunc(got, want, func(a, b engine.MemberView) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
					t.Fatalf("limit %d: pages differ from the dump:\n got %v\nwant %v", limit, got, want)
				}
			}
		})
	}
}

func pageAll(t *testing.T, n *Node, limit int) []engine.MemberView {
	t.Helper()
	var all []engine.MemberView
	after := ""
	for {
		views, applied, more, err := n.MemberPage(context.Background(), after, limit, Linearizable)
		if err != nil {
			t.Fatal(err)
		}
		if applied == 0 || len(views) > limit || more && len(views) < limit {
			t.Fatalf("page after %q: %d views, applied %d, more %v", after, len(views), applied, more)
		}
		if len(views) > 0 && views[0].Member <= after {
			t.Fatalf("page after %q starts at %q", after, views[0].Member)
		}
		all = append(all, views...)
		if !more {
			return all
		}
		after = views[len(views)-1].Member
	}
}
