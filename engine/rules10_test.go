package engine

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// Rule cases for SPEC §10: one per subsection, each on the smallest program
// that shows the rule.

func at10(day string) string { return `"at":"2026-01-` + day + `T10:00:00Z"` }

func buy10(id, member, category string, amount int, day string) string {
	cat := ""
	if category != "" {
		cat = `"category":"` + category + `",`
	}
	return `{"type":"purchase","id":"` + id + `","member":"` + member + `","partner":"shop",` + cat +
		`"amount":` + strconv.Itoa(amount) + `,` + at10(day) + `}`
}

func ok10(id string, points, available int) string {
	return `{"id":"` + id + `","status":"ok","points":` + strconv.Itoa(points) + `,"available":` + strconv.Itoa(available) + `,"pending":0,"tier":"base"}`
}

func err10(id, code string) string {
	return `{"id":"` + id + `","status":"error","error":"` + code + `"}`
}

const rule10Budget = `
program: budget
earn: {rate: {points: 1, per: 100}}
partners: [{id: shop}]
campaigns:
  - {id: launch, from: 2026-01-01T00:00:00Z, to: 2027-01-01T00:00:00Z, multiplier_bp: 30000, budget_points: 50}
`

const rule10Offer = `
program: spiral
earn: {rate: {points: 1, per: 100}}
partners: [{id: shop}]
offers:
  - id: frother
    trigger: {categories: [machines], min_amount: 10000}
    reward: {categories: [machines, frothers], multiplier_bp: 30000, bonus_points: 5}
    days: 10
`

const rule10Collection = `
program: charms
earn: {rate: {points: 1, per: 100}}
partners: [{id: shop}]
challenges:
  - {id: bracelet, from: 2026-01-01T00:00:00Z, to: 2026-02-01T00:00:00Z, purchases: 3, distinct_categories: 3, bonus_points: 100}
`

const rule10Daily = `
program: daily
earn: {rate: {points: 1, per: 100}}
partners: [{id: shop}]
caps: {per_member_month: 250, per_member_day: 100}
limits: {purchases_per_member_day: 3}
`

const rule10Rewards = `
program: catalogue
earn: {rate: {points: 1, per: 100}}
partners: [{id: shop}, {id: cafe}]
redemption: {min_points: 100}
rewards:
  - {id: mug, points: 30, partner: cafe, stock: 1}
  - {id: voucher, points: 50, partner: shop}
`

func claim10(id, member, reward string) string {
	return `{"type":"claim","id":"` + id + `","member":"` + member + `","reward":"` + reward + `",` + at10("02") + `}`
}

func cancel10(id, original string) string {
	return `{"type":"cancel_redemption","id":"` + id + `","original":"` + original + `",` + at10("02") + `}`
}

func init() {
	ruleCases = append(ruleCases, []ruleCase{
		{
			// base 20 and E 40 each: the second purchase gets only the 10
			// left; then the campaign no longer matches. A quote spends
			// nothing, and a refund gives nothing back.
			name:    "S10_1_budget_exhausted_in_the_middle_of_a_purchase",
			program: rule10Budget,
			stream: []string{
				buy10("p1", "m", "", 2000, "01"),
				`{"type":"quote","member":"m","partner":"shop","amount":2000,` + at10("01") + `}`,
				buy10("p2", "m", "", 2000, "02"),
				buy10("p3", "m", "", 2000, "03"),
				`{"type":"refund","id":"r1","member":"m","partner":"shop","original":"p1","amount":2000,` + at10("04") + `}`,
				buy10("p4", "m", "", 2000, "05"),
			},
			want: []string{
				ok10("p1", 60, 60),
				`{"status":"ok","points":30,"discount":0,"tier":"base"}`,
				ok10("p2", 30, 90),
				ok10("p3", 20, 110),
				ok10("r1", -60, 50),
				ok10("p4", 20, 70),
			},
		},
		{
			// p5 uses the offer p4 granted and, a machine itself, renews
			// it: p6 on the 14th still has it (until the 15th).
			name:    "S10_2_offer_renewed_by_the_purchase_that_used_it",
			program: rule10Offer,
			stream: []string{
				buy10("p1", "m", "machines", 10000, "01"),
				buy10("p2", "m", "frothers", 1000, "02"),
				buy10("p3", "m", "frothers", 1000, "03"),
				buy10("p4", "m", "machines", 10000, "04"),
				buy10("p5", "m", "machines", 10000, "05"),
				buy10("p6", "m", "frothers", 1000, "14"),
				buy10("p7", "m", "frothers", 1000, "20"),
			},
			want: []string{
				ok10("p1", 100, 100),
				ok10("p2", 35, 135),
				ok10("p3", 10, 145),
				ok10("p4", 100, 245),
				ok10("p5", 305, 550),
				ok10("p6", 35, 585),
				ok10("p7", 10, 595),
			},
		},
		{
			name:    "S10_3_collection_completed_by_its_last_new_category",
			program: rule10Collection,
			stream: []string{
				buy10("p1", "m", "charms", 100, "01"),
				buy10("p2", "m", "charms", 100, "02"),
				buy10("p3", "m", "", 100, "03"),
				buy10("p4", "m", "beads", 100, "04"),
				buy10("p5", "m", "clasps", 100, "05"),
				buy10("p6", "m", "links", 100, "06"),
			},
			want: []string{
				ok10("p1", 1, 1),
				ok10("p2", 1, 2),
				ok10("p3", 1, 3),
				ok10("p4", 1, 4),
				ok10("p5", 101, 105),
				ok10("p6", 1, 106),
			},
		},
		{
			// 80 each: the day's cap leaves 20, then 0; the fourth purchase
			// of the day is refused (a quote is not); on the 3rd the
			// month's cap leaves 70 before the day's is reached.
			name:    "S10_4_daily_cap_after_the_monthly_one",
			program: rule10Daily,
			stream: []string{
				buy10("p1", "m", "", 8000, "01"),
				buy10("p2", "m", "", 8000, "01"),
				buy10("p3", "m", "", 8000, "01"),
				`{"type":"quote","member":"m","partner":"shop","amount":8000,` + at10("01") + `}`,
				buy10("p4", "m", "", 8000, "01"),
				buy10("p5", "m", "", 8000, "02"),
				buy10("p6", "m", "", 8000, "03"),
				buy10("p7", "m", "", 8000, "03"),
			},
			want: []string{
				ok10("p1", 80, 80),
				ok10("p2", 20, 100),
				ok10("p3", 0, 100),
				`{"status":"ok","points":0,"discount":0,"tier":"base"}`,
				err10("p4", "velocity_limit"),
				ok10("p5", 80, 180),
				ok10("p6", 70, 250),
				ok10("p7", 0, 250),
			},
		},
		{
			name:    "S10_5_cancelled_claim_returns_stock",
			program: rule10Rewards,
			stream: []string{
				`{"type":"adjust","id":"a1","member":"a","points":100,` + at10("01") + `}`,
				`{"type":"adjust","id":"b1","member":"b","points":100,` + at10("01") + `}`,
				claim10("c1", "a", "mug"),
				claim10("c2", "b", "mug"),
				cancel10("c3", "c1"),
				claim10("c4", "b", "mug"),
				cancel10("c5", "c1"),
				claim10("c6", "a", "yacht"),
				claim10("c7", "z", "voucher"),
				claim10("c8", "a", "voucher"),
				claim10("c9", "b", "voucher"),
				claim10("c10", "b", "voucher"),
				`{"type":"redeem","id":"r1","member":"a","partner":"shop","points":30,` + at10("02") + `}`,
			},
			want: []string{
				ok10("a1", 100, 100),
				ok10("b1", 100, 100),
				ok10("c1", -30, 70),
				err10("c2", "out_of_stock"),
				ok10("c3", 30, 100),
				ok10("c4", -30, 70),
				err10("c5", "already_cancelled"),
				err10("c6", "unknown_reward"),
				err10("c7", "insufficient_points"),
				ok10("c8", -50, 50),
				ok10("c9", -50, 20),
				err10("c10", "insufficient_points"),
				err10("r1", "below_min_redemption"),
				`{"member":"a","available":50,"pending":0,"tier":"base","earned":100,"redeemed":50,"expired":0}`,
				`{"member":"b","available":20,"pending":0,"tier":"base","earned":100,"redeemed":80,"expired":0}`,
			},
		},
	}...)
}

// TestBudgetsAndStockViews: the program-wide §10 state that GET
// /v1/program shows, after the budget and catalogue rule streams.
func TestBudgetsAndStockViews(t *testing.T) {
	run := func(src string, stream []string) *Engine {
		prog, err := ParseProgram([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		_, eng, _ := runStream(t, prog, []byte(strings.Join(stream, "\n")), 1)
		return eng
	}
	eng := run(rule10Budget, []string{buy10("p1", "m", "", 2000, "01"), buy10("p2", "m", "", 2000, "02")})
	if got, want := eng.Budgets(), []BudgetView{{Campaign: "launch", Budget: 50, Spent: 50, Left: 0}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("budgets %+v, want %+v", got, want)
	}
	eng = run(rule10Rewards, []string{
		`{"type":"adjust","id":"a1","member":"a","points":100,` + at10("01") + `}`,
		claim10("c1", "a", "mug"), claim10("c2", "a", "voucher"),
	})
	want := []StockView{
		{Reward: "mug", Points: 30, Partner: "cafe", Stock: 1, Claimed: 1, Left: 0},
		{Reward: "voucher", Points: 50, Partner: "shop", Claimed: 1, Left: -1},
	}
	if got := eng.Stock(); !reflect.DeepEqual(got, want) {
		t.Fatalf("stock %+v, want %+v", got, want)
	}
}
