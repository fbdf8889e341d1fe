package raft

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/accrual/accrual/engine"
)

func TestSingleNodeMatchesOffline(t *testing.T) {
	for _, name := range []string{"club", "coalition", "airline", "cashback"} {
		t.Run(name, func(t *testing.T) {
			p := loadProgram(t, name)
			cmds := loadCommands(t, name)
			n := startNode(t, testConfig(t, "n1", p, true))
			defer n.Close()
			waitLeader(t, n)
			var got []byte
			for i := 0; i < len(cmds); i += 300 {
				res, err := n.Submit(context.Background(), cmds[i:min(i+300, len(cmds))])
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, res...)
			}
			want, eng, ents := offline(p, cmds)
			if !bytes.Equal(got, want) {
				gl, wl := splitLines(got), splitLines(want)
				for i := range min(len(gl), len(wl)) {
					if !bytes.Equal(gl[i], wl[i]) {
						t.Fatalf("line %d: got %s want %s", i, gl[i], wl[i])
					}
				}
				t.Fatalf("got %d lines, want %d", len(gl), len(wl))
			}
			if h, w := n.StateHash(), engineHash(eng); h != w {
				t.Fatalf("state hash %x, offline %x", h, w)
			}
			syncLedger(t, n)
			if got, want := n.Ledger().LastSeq(), uint64(len(ents)); got != want {
				t.Fatalf("ledger has %d entries, offline engine wrote %d", got, want)
			}
			if n.Ledger().Position() != n.AppliedIndex() {
				t.Fatalf("ledger position %d, applied %d", n.Ledger().Position(), n.AppliedIndex())
			}
			// A tick at the clock (no at) brings due members to the clock, as
			// the leader's periodic tick does; it changes no balance the
			// offline engine reports lazily.
			tick := make([]engine.Command, 1)
			var dec engine.Decoder
			dec.Decode([]byte(`{"type":"tick"}`), &tick[0])
			if _, err := n.Submit(context.Background(), tick); err != nil {
				t.Fatal(err)
			}
			// Reads: every member's view equals the offline engine's.
			if err := eng.Dump(func(v *engine.MemberView) error {
				for _, c := range []Consistency{Linearizable, Leader, Stale} {
					got, _, ok, err := n.Member(v.Member, c)
					if err != nil || !ok {
						t.Fatalf("member %s (%v): ok=%v err=%v", v.Member, c, ok, err)
					}
					if got.Available != v.Available || got.Pending != v.Pending || got.Tier != v.Tier || got.Earned != v.Earned || got.Held != v.Held {
						t.Fatalf("member %s: got %+v want %+v", v.Member, got, *v)
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if _, err := n.Ledger().Verify(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestTickAndOverload(t *testing.T) {
	p := loadProgram(t, "club")
	cfg := testConfig(t, "n1", p, true)
	cfg.TickInterval = 50 * time.Millisecond
	cfg.MaxQueue, cfg.MaxBatchCommands = 100, 50
	n := startNode(t, cfg)
	defer n.Close()
	waitLeader(t, n)
	waitFor(t, "a tick", 5*time.Second, func() bool { return n.ClockMS() > time.Now().Add(-time.Minute).UnixMilli() })
	if _, err := n.Submit(context.Background(), purchases(t, p, "o", 0, 101)); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("oversized submit: %v", err)
	}
	// 80 commands: two chunks of 50 and 30, one NDJSON of 80 lines.
	res, err := n.Submit(context.Background(), purchases(t, p, "o", 0, 80))
	if err != nil || len(splitLines(res)) != 80 {
		t.Fatalf("chunked submit: %d lines, %v", len(splitLines(res)), err)
	}
	if s := n.Status(); s.State != "Leader" || s.LeaderHTTP != cfg.HTTPAddr {
		t.Fatalf("status %+v", s)
	}
	// The leader's tick, every 50 ms, is queued for a moment each time.
	waitFor(t, "nothing queued", 5*time.Second, func() bool { return n.Status().Queued == 0 })
}
