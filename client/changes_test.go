package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/accrual/accrual/api/wire"
	"github.com/accrual/accrual/client"
)

// TestChanges: the feed read whole, resumed from a cursor without a gap,
// followed for a change applied after it opened, and a bad cursor's code.
func TestChanges(t *testing.T) {
	_, base := serve(t)
	ctx := context.Background()
	c := client.New(base, key)
	buy := func(id string) {
		t.Helper()
		if _, err := c.Submit(ctx, []json.RawMessage{json.RawMessage(`{"type":"purchase","id":"` + id + `","member":"M1","partner":"shop","amount":10000}`)}); err != nil {
			t.Error(err) // also called from a goroutine: no Fatal
		}
	}
	buy("p1")
	buy("p2")
	read := func(q client.ChangesQuery) []uint64 {
		t.Helper()
		var seqs []uint64
		if err := c.Changes(ctx, q, func(ch *client.Change) error {
			if len(ch.Balances) != 1 || ch.Balances[0].Member != "M1" {
				t.Errorf("change %d: balances %+v", ch.Seq, ch.Balances)
			}
			seqs = append(seqs, ch.Seq)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return seqs
	}
	all := read(client.ChangesQuery{})
	if len(all) < 2 || all[0] != 1 {
		t.Fatalf("whole feed: %v", all)
	}
	if rest := read(client.ChangesQuery{After: 1}); len(rest) != len(all)-1 || rest[0] != 2 {
		t.Fatalf("resumed after 1: %v, whole %v", rest, all)
	}
	last := all[len(all)-1]
	go func() { time.Sleep(100 * time.Millisecond); buy("p3") }()
	if got := read(client.ChangesQuery{After: last, Limit: 1, Follow: true}); len(got) != 1 || got[0] != last+1 {
		t.Fatalf("followed: %v, want [%d]", got, last+1)
	}
	err := c.Changes(ctx, client.ChangesQuery{After: last + 100}, func(*client.Change) error { return nil })
	var e *client.Error
	if !errors.As(err, &e) || e.Code != wire.CursorBeyondEnd {
		t.Fatalf("a cursor beyond the end: %v", err)
	}
}
