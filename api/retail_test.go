package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accrual/accrual/api/apitest"
	"github.com/accrual/accrual/api/wire"
)

const retailProgram = `
program: retail
earn: {rate: {points: 1, per: 100}}
partners: [{id: shop}, {id: cafe}]
campaigns:
  - {id: launch, from: 2026-01-01T00:00:00Z, to: 2027-01-01T00:00:00Z, multiplier_bp: 20000, budget_points: 150}
rewards:
  - {id: mug, points: 30, partner: cafe, stock: 2}
  - {id: bag, points: 50, partner: shop}
`

func newRetailEnv(t *testing.T) *env {
	t.Helper()
	mem := apitest.New(apitest.MustProgram(retailProgram), true)
	s, base := start(t, mem, nil)
	return &env{t: t, srv: s, mem: mem, base: base, hc: &http.Client{Timeout: 20 * time.Second}}
}

// TestClaimsOverHTTP: POST /v1/claims and claims in /v1/commands; a
// partner key claims only its own partner's rewards; a cancelled claim
// returns its item to the stock that /v1/program/state and /v1/stats show.
func TestClaimsOverHTTP(t *testing.T) {
	e := newRetailEnv(t)
	// 100 base + 100 from the campaign: the budget has 50 left
	e.expect("POST", "/v1/purchases", shopKey, `{"id":"p1","member":"m","partner":"shop","amount":10000}`, 200)
	e.expect("POST", "/v1/claims", cafeKey, `{"id":"c1","member":"m","reward":"mug"}`, 200)
	if code := e.expect("POST", "/v1/claims", shopKey, `{"id":"c2","member":"m","reward":"mug"}`, 403).errCode(t); code != string(wire.Forbidden) {
		t.Fatalf("a partner claiming another's reward: %s", code)
	}
	e.expect("POST", "/v1/claims", shopKey, `{"id":"c3","member":"m","reward":"yacht"}`, 403)
	if code := e.expect("POST", "/v1/claims", opKey, `{"id":"c4","member":"m","reward":"yacht"}`, 422).errCode(t); code != "unknown_reward" {
		t.Fatalf("unknown reward: %s", code)
	}
	r := e.expect("POST", "/v1/commands", opKey, `[{"type":"claim","id":"c5","member":"m","reward":"mug"},{"type":"claim","id":"c6","member":"m","reward":"mug"}]`, 200)
	if !strings.Contains(r.body, `"out_of_stock"`) {
		t.Fatalf("the third mug of a stock of 2: %s", r.body)
	}
	e.expect("POST", "/v1/redemptions/c1/cancel", opKey, `{"id":"x1"}`, 200)
	e.expect("POST", "/v1/stream", opKey, `{"type":"claim","id":"c7","member":"m","reward":"bag"}`+"\n", 200)

	var st wire.ProgramState
	if err := json.Unmarshal([]byte(e.expect("GET", "/v1/program/state", roKey, "", 200).body), &st); err != nil {
		t.Fatal(err)
	}
	one := int64(1)
	want := wire.ProgramState{
		Budgets:   []wire.Budget{{Campaign: "launch", BudgetPoints: 150, Spent: 100, Left: 50}},
		Catalogue: []wire.Stock{{Reward: "mug", Partner: "cafe", Points: 30, Stock: 2, Claimed: 1, Left: &one}, {Reward: "bag", Partner: "shop", Points: 50, Claimed: 1}},
	}
	st.AppliedIndex = 0
	if got, _ := json.Marshal(st); string(got) != string(must(json.Marshal(want))) {
		t.Fatalf("program state %s, want %s", got, must(json.Marshal(want)))
	}
	e.expect("GET", "/v1/program/state", shopKey, "", 403)
	var stats wire.Stats
	if err := json.Unmarshal([]byte(e.expect("GET", "/v1/stats", opKey, "", 200).body), &stats); err != nil {
		t.Fatal(err)
	}
	if len(stats.Budgets) != 1 || len(stats.Catalogue) != 2 || stats.Catalogue[0].Claimed != 1 {
		t.Fatalf("stats: budgets %+v, catalogue %+v", stats.Budgets, stats.Catalogue)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
