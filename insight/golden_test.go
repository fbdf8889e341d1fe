package insight

import (
	"strconv"
	"strings"
	"testing"

	"github.com/accrual/accrual/engine"
)

// TestKPIsGoldenStream: a small stream whose KPIs are worked out by hand.
//
// Program: 1 point per 100, available at once, lots expire after 365 days.
//
//	p1 alice 10000 on 2026-01-10 → 100 points (lot expires 2027-01-10)
//	p2 bob    5000 on 2026-02-10 →  50 points (lot expires 2027-02-10)
//	r1 alice redeems 40 on 2026-03-01 (taken from p1's lot: 60 left)
//	p3 alice  2000 on 2026-03-05 →  20 points (lot expires 2027-03-05)
//	p4 carol  1000 at an unknown partner: rejected
//	a1 dave adjust +5 on 2026-03-06 (member, no purchase: not a buyer)
//	tick 2026-04-20: the clock
//
// At the clock (2026-04-20):
//   - members 3 (alice, bob, dave), buyers 2;
//   - active in 30 days (purchase or redemption after 2026-03-21): nobody;
//     in 90 days (after 2026-01-20): alice (Mar 5) and bob (Feb 10): 2 of 3;
//     in 365 days: alice and bob: 2;
//   - earned 175 (170 issued + 5 adjusted), redeemed 40: rate 40/175;
//   - liability 135: 2027-01 60, 2027-02 50, 2027-03 25 (20 + dave's 5);
//   - spend: alice 12000, bob 5000: total 17000, mean 8500;
//   - cohorts: 2026-01 (alice): active in Jan, (Feb no), Mar; 2026-02 (bob): Feb.
func TestKPIsGoldenStream(t *testing.T) {
	prog, err := engine.ParseProgram([]byte(`
program: golden
currency: EUR
earn: {rate: {points: 1, per: 100}}
expiry: {mode: lot, days: 365}
partners: [{id: shop}]
`))
	if err != nil {
		t.Fatal(err)
	}
	stream := []string{
		`{"type":"purchase","id":"p1","member":"alice","partner":"shop","amount":10000,"at":"2026-01-10T00:00:00Z"}`,
		`{"type":"purchase","id":"p2","member":"bob","partner":"shop","amount":5000,"at":"2026-02-10T00:00:00Z"}`,
		`{"type":"redeem","id":"r1","member":"alice","partner":"shop","points":40,"at":"2026-03-01T00:00:00Z"}`,
		`{"type":"purchase","id":"p3","member":"alice","partner":"shop","amount":2000,"at":"2026-03-05T00:00:00Z"}`,
		`{"type":"purchase","id":"p4","member":"carol","partner":"nobody","amount":1000,"at":"2026-03-05T00:00:00Z"}`,
		`{"type":"adjust","id":"a1","member":"dave","points":5,"at":"2026-03-06T00:00:00Z"}`,
		`{"type":"tick","at":"2026-04-20T00:00:00Z"}`,
	}
	eng := engine.New(prog)
	col := NewCollector(prog)
	var dec engine.Decoder
	cmds := make([]engine.Command, len(stream))
	for i, l := range stream {
		dec.Decode([]byte(l), &cmds[i])
	}
	res, ents := eng.Apply(cmds, nil, nil)
	col.Observe(cmds, res, ents)
	k := Compute(col, eng, Options{PointValueMinor: 1})

	if k.Members != 3 || k.Buyers != 2 {
		t.Fatalf("members %d buyers %d, want 3 and 2", k.Members, k.Buyers)
	}
	wantActive := map[int]int{30: 0, 90: 2, 365: 2}
	for _, a := range k.Active {
		if a.Members != wantActive[a.Days] {
			t.Errorf("active in %d days: %d, want %d", a.Days, a.Members, wantActive[a.Days])
		}
	}
	if k.Points.Earned != 175 || k.Points.Redeemed != 40 || k.Points.RedemptionRate != 40.0/175.0 {
		t.Errorf("points %+v", k.Points)
	}
	if k.Liability.Points != 135 {
		t.Errorf("liability %d, want 135", k.Liability.Points)
	}
	var months []string
	for _, b := range k.Liability.ByExpiry {
		months = append(months, b.Month+"="+strconv.FormatInt(b.Points, 10))
	}
	if got := strings.Join(months, " "); got != "2027-01=60 2027-02=50 2027-03=25" {
		t.Errorf("liability by expiry: %s", got)
	}
	if k.Spend.TotalMinor != 17000 || k.Spend.MeanMinor != 8500 {
		t.Errorf("spend %+v", k.Spend)
	}
	if k.Commands.Rejected != 1 || k.Commands.Purchases < 3 {
		t.Errorf("commands %+v", k.Commands)
	}
	if len(k.Retention) != 2 || k.Retention[0].Month != "2026-01" || k.Retention[0].Size != 1 ||
		k.Retention[1].Month != "2026-02" || k.Retention[1].Size != 1 {
		t.Fatalf("cohorts %+v", k.Retention)
	}
	if a := k.Retention[0].Active; len(a) < 3 || a[0] != 1 || a[1] != 0 || a[2] != 1 {
		t.Errorf("alice's cohort activity by month: %v, want [1 0 1 …]", a)
	}
}
