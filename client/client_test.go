package client_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/accrual/accrual/api"
	"github.com/accrual/accrual/api/apitest"
	"github.com/accrual/accrual/client"
)

const program = `
program: t
unit: points
currency: EUR
earn:
  rate: {points: 1, per: 100}
expiry: {mode: lot, days: 365}
tiers:
  metric: spend
  levels:
    - {name: card, threshold: 0, multiplier_bp: 10000, discount_bp: 250, perks: [coffee]}
partners:
  - {id: shop}
`

const key = "operator-key-0123456789"

func serve(t *testing.T) (*apitest.Mem, string) {
	mem := apitest.New(apitest.MustProgram(program), true)
	keys, err := api.NewKeys([]api.Key{{Key: key, Role: "operator"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := api.New(api.Config{Addr: "127.0.0.1:0", Backend: mem, Keys: keys,
		Now: func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.ListenAndServe()
	t.Cleanup(func() { s.Shutdown() })
	return mem, "http://" + s.Addr()
}

func TestClient(t *testing.T) {
	mem, base := serve(t)
	ctx := context.Background()
	c := client.New(base, key)
	res, err := c.Submit(ctx, []json.RawMessage{
		json.RawMessage(`{"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":10000}`),
		json.RawMessage(`{"type":"redeem","id":"r1","member":"M1","partner":"shop","points":1000}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || !res[0].OK() || res[0].Points != 100 || res[1].Error != "insufficient_points" {
		t.Fatalf("%+v", res)
	}
	res, err = c.SubmitLines(ctx, []byte(`{"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":10000}`+"\n"))
	if err != nil || !res[0].Duplicate {
		t.Fatalf("%+v %v", res, err)
	}
	var got []client.Result
	err = c.Stream(ctx, strings.NewReader(`{"type":"purchase","id":"p2","member":"M1","partner":"shop","amount":500}`+"\n"+`{"type":"tick"}`+"\n"),
		func(r client.Result) error { got = append(got, r); return nil })
	if err != nil || len(got) != 2 || got[0].Available != 105 {
		t.Fatalf("%+v %v", got, err)
	}
	m, err := c.Member(ctx, "M1", "")
	if err != nil || m.Available != 105 || m.DiscountBP != 250 || m.Perks[0] != "coffee" || m.Lots != nil {
		t.Fatalf("%+v %v", m, err)
	}
	if m, err = c.MemberWithLots(ctx, "M1", "stale"); err != nil || len(m.Lots) != 1 || m.Consistency != "stale" {
		t.Fatalf("with lots: %+v %v", m, err)
	}
	q, err := c.Quote(ctx, map[string]any{"member": "M1", "partner": "shop", "amount": 1000})
	if err != nil || q.Points != 10 || q.Discount != 25 {
		t.Fatalf("%+v %v", q, err)
	}
	if _, err := c.Statement(ctx, "M1", "", 10); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stats(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := c.Command(ctx, "purchases", `{"id":"p3","member":"M1","partner":"shop","amount":100}`)
	if err != nil || !r.OK() {
		t.Fatal(r, err)
	}
	// typed errors
	_, err = c.Command(ctx, "redemptions", `{"id":"r2","member":"M1","partner":"shop","points":100000}`)
	var e *client.Error
	if !client.IsCode(err, "insufficient_points") || !errorsAs(err, &e) || e.Status != 422 || e.Result == nil {
		t.Fatalf("%v", err)
	}
	if _, err := c.Member(ctx, "NOBODY", "stale"); !client.IsCode(err, "not_found") {
		t.Fatal(err)
	}
	if _, err := client.New(base, "wrong-key-0123456789").Stats(ctx); !client.IsCode(err, "unauthorized") {
		t.Fatal(err)
	}
	mem.SetErr(apitest.Overloaded{})
	_, err = c.Submit(ctx, []json.RawMessage{json.RawMessage(`{"type":"tick"}`)})
	if !errorsAs(err, &e) || e.Code != "overloaded" || !e.Retryable() || e.RetryAfter != time.Second {
		t.Fatalf("%+v", err)
	}
	err = c.Stream(ctx, strings.NewReader(`{"type":"tick"}`+"\n"), func(client.Result) error { return nil })
	if !client.IsCode(err, "overloaded") {
		t.Fatal(err)
	}
	mem.SetErr(nil)
}

// TestFollowLeader: a follower's not_leader answer sends the client to the leader.
func TestFollowLeader(t *testing.T) {
	_, leader := serve(t)
	follower, fbase := serve(t)
	follower.SetErr(apitest.NotLeader{Leader: strings.TrimPrefix(leader, "http://")})
	c := client.New(fbase, key, client.WithFollowLeader())
	res, err := c.Submit(context.Background(), []json.RawMessage{json.RawMessage(`{"type":"tick"}`)})
	if err != nil || len(res) != 1 || c.BaseURL() != leader {
		t.Fatalf("%v %v %s", res, err, c.BaseURL())
	}
	c2 := client.New(fbase, key)
	_, err = c2.Submit(context.Background(), []json.RawMessage{json.RawMessage(`{"type":"tick"}`)})
	var e *client.Error
	if !errorsAs(err, &e) || e.Code != "not_leader" || e.Leader != leader || e.Status != 421 {
		t.Fatalf("%+v", err)
	}
}

// TestClientReads: the typed reads decode the server's answers.
func TestClientReads(t *testing.T) {
	_, base := serve(t)
	ctx := context.Background()
	c := client.New(base, key)
	if _, err := c.Submit(ctx, []json.RawMessage{
		json.RawMessage(`{"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":10000,"at":"2026-05-01T00:00:00Z"}`),
	}); err != nil {
		t.Fatal(err)
	}
	st, err := c.Statement(ctx, "M1", "", 10)
	if err != nil || len(st.Entries) == 0 || st.Entries[0].CommandID != "p1" {
		t.Fatalf("statement %+v %v", st, err)
	}
	b, err := c.Balance(ctx, "M1", time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC))
	if err != nil || b.Member != "M1" || b.Available+b.Pending != 100 {
		t.Fatalf("balance %+v %v", b, err)
	}
	ce, err := c.CommandEntries(ctx, "p1")
	if err != nil || ce.ID != "p1" || len(ce.Entries) == 0 {
		t.Fatalf("command %+v %v", ce, err)
	}
	se, err := c.Settlement(ctx, "shop", time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || se.Partner.Partner != "shop" || se.Partner.Issued != 100 {
		t.Fatalf("settlement %+v %v", se, err)
	}
	stats, err := c.Stats(ctx)
	if err != nil || stats.Members != 1 {
		t.Fatalf("stats %+v %v", stats, err)
	}
	cl, err := c.Cluster(ctx)
	if err != nil || cl.State != "Leader" {
		t.Fatalf("cluster %+v %v", cl, err)
	}
	ms, err := c.Members(ctx, "", 1, "leader")
	if err != nil || len(ms.Members) != 1 || ms.Members[0].Member != "M1" || ms.Members[0].Earned != 100 ||
		ms.Next != "" || ms.Consistency != "leader" {
		t.Fatalf("members %+v %v", ms, err)
	}
	if ms, err = c.Members(ctx, "M1", 0, ""); err != nil || len(ms.Members) != 0 {
		t.Fatalf("members after the last %+v %v", ms, err)
	}
}
