package engine

import (
	"strings"
	"testing"
)

// Each case is a small program, a stream, and the results SPEC prescribes,
// worked out by hand in the comments. Dump lines follow the results when the
// case lists them.
type ruleCase struct {
	name    string
	program string
	stream  []string
	want    []string
}

const ruleBase = `
program: rules
earn:
  rate: {points: 1, per: 100}
  categories: {food: {points: 3, per: 100}}
partners:
  - {id: shop}
  - {id: fuel, rate: {points: 2, per: 100}, categories: {gas: {points: 5, per: 100}}}
`

var ruleCases = []ruleCase{
	{
		name:    "S5_step2_rate_precedence",
		program: ruleBase,
		stream: []string{
			// program rate 1/100: 1000 → 10
			`{"type":"purchase","id":"p1","member":"m","partner":"shop","amount":1000,"at":"2026-01-01T00:00:00Z"}`,
			// program category food 3/100 → 30
			`{"type":"purchase","id":"p2","member":"m","partner":"shop","amount":1000,"category":"food","at":"2026-01-01T00:00:00Z"}`,
			// partner rate 2/100 beats the program category → 20
			`{"type":"purchase","id":"p3","member":"m","partner":"fuel","amount":1000,"category":"food","at":"2026-01-01T00:00:00Z"}`,
			// partner category gas 5/100 beats all → 50
			`{"type":"purchase","id":"p4","member":"m","partner":"fuel","amount":1000,"category":"gas","at":"2026-01-01T00:00:00Z"}`,
		},
		want: []string{
			`{"id":"p1","status":"ok","points":10,"available":10,"pending":0,"tier":"base"}`,
			`{"id":"p2","status":"ok","points":30,"available":40,"pending":0,"tier":"base"}`,
			`{"id":"p3","status":"ok","points":20,"available":60,"pending":0,"tier":"base"}`,
			`{"id":"p4","status":"ok","points":50,"available":110,"pending":0,"tier":"base"}`,
		},
	},
	{
		name: "S5_step4_one_floor_at_the_end",
		program: ruleBase + `
tiers:
  levels:
    - {name: base, threshold: 0, multiplier_bp: 10000}
    - {name: silver, threshold: 1, multiplier_bp: 12500}
`,
		stream: []string{
			// base: 100/100 = 1; spend 100 reaches silver
			`{"type":"purchase","id":"p1","member":"m","partner":"shop","amount":100,"at":"2026-01-01T00:00:00Z"}`,
			// silver: floor(199 × 12500 / (100 × 10000)) = floor(2.4875) = 2, not floor(1) × 1.25
			`{"type":"purchase","id":"p2","member":"m","partner":"shop","amount":199,"at":"2026-01-01T00:00:00Z"}`,
		},
		want: []string{
			`{"id":"p1","status":"ok","points":1,"available":1,"pending":0,"tier":"silver"}`,
			`{"id":"p2","status":"ok","points":2,"available":3,"pending":0,"tier":"silver"}`,
		},
	},
	{
		name:    "S5_step5_welcome_bonus_on_first_accepted_purchase",
		program: ruleBase + "welcome_bonus: 50\n",
		stream: []string{
			`{"type":"purchase","id":"p0","member":"m","partner":"nobody","amount":100,"at":"2026-01-01T00:00:00Z"}`,
			// 1 + 50
			`{"type":"purchase","id":"p1","member":"m","partner":"shop","amount":100,"at":"2026-01-01T00:00:00Z"}`,
			`{"type":"purchase","id":"p2","member":"m","partner":"shop","amount":100,"at":"2026-01-01T00:00:00Z"}`,
		},
		want: []string{
			`{"id":"p0","status":"error","error":"unknown_partner"}`,
			`{"id":"p1","status":"ok","points":51,"available":51,"pending":0,"tier":"base"}`,
			`{"id":"p2","status":"ok","points":1,"available":52,"pending":0,"tier":"base"}`,
		},
	},
	{
		name:    "S5_step6_caps_per_purchase_then_per_month",
		program: ruleBase + "caps: {per_purchase: 30, per_member_month: 50}\n",
		stream: []string{
			// 50 → per purchase 30
			`{"type":"purchase","id":"p1","member":"m","partner":"shop","amount":5000,"at":"2026-01-05T00:00:00Z"}`,
			// 50 → 30 → month has 20 left
			`{"type":"purchase","id":"p2","member":"m","partner":"shop","amount":5000,"at":"2026-01-06T00:00:00Z"}`,
			// month exhausted: 0
			`{"type":"purchase","id":"p3","member":"m","partner":"shop","amount":100,"at":"2026-01-07T00:00:00Z"}`,
			// a new month: 10
			`{"type":"purchase","id":"p4","member":"m","partner":"shop","amount":1000,"at":"2026-02-01T00:00:00Z"}`,
		},
		want: []string{
			`{"id":"p1","status":"ok","points":30,"available":30,"pending":0,"tier":"base"}`,
			`{"id":"p2","status":"ok","points":20,"available":50,"pending":0,"tier":"base"}`,
			`{"id":"p3","status":"ok","points":0,"available":50,"pending":0,"tier":"base"}`,
			`{"id":"p4","status":"ok","points":10,"available":60,"pending":0,"tier":"base"}`,
		},
	},
	{
		name: "S5_step3_campaigns_highest_multiplier_sum_of_bonuses",
		program: ruleBase + `
campaigns:
  - {id: c1, from: 2026-01-01T00:00:00Z, to: 2027-01-01T00:00:00Z, categories: [food], multiplier_bp: 20000}
  - {id: c2, from: 2026-01-01T00:00:00Z, to: 2027-01-01T00:00:00Z, partners: [fuel], min_amount: 500, multiplier_bp: 30000}
  - {id: c3, from: 2026-01-01T00:00:00Z, to: 2027-01-01T00:00:00Z, bonus_points: 7}
`,
		stream: []string{
			// food 3/100 × 2 + 7 = 60 + 7
			`{"type":"purchase","id":"p1","member":"m","partner":"shop","amount":1000,"category":"food","at":"2026-01-01T00:00:00Z"}`,
			// no category: c1 does not match; 10 + 7
			`{"type":"purchase","id":"p2","member":"m","partner":"shop","amount":1000,"at":"2026-01-01T00:00:00Z"}`,
			// fuel 2/100 × 3 (c2 beats c1) + 7 = 60 + 7
			`{"type":"purchase","id":"p3","member":"m","partner":"fuel","amount":1000,"category":"food","at":"2026-01-01T00:00:00Z"}`,
			// below c2's min_amount: 400 × 2/100 × 2 + 7 = 16 + 7
			`{"type":"purchase","id":"p4","member":"m","partner":"fuel","amount":400,"category":"food","at":"2026-01-01T00:00:00Z"}`,
			// after every campaign: 10
			`{"type":"purchase","id":"p5","member":"m","partner":"shop","amount":1000,"at":"2027-01-01T00:00:00Z"}`,
		},
		want: []string{
			`{"id":"p1","status":"ok","points":67,"available":67,"pending":0,"tier":"base"}`,
			`{"id":"p2","status":"ok","points":17,"available":84,"pending":0,"tier":"base"}`,
			`{"id":"p3","status":"ok","points":67,"available":151,"pending":0,"tier":"base"}`,
			`{"id":"p4","status":"ok","points":23,"available":174,"pending":0,"tier":"base"}`,
			`{"id":"p5","status":"ok","points":10,"available":184,"pending":0,"tier":"base"}`,
		},
	},
	{
		name: "S4_step4_tier_carried_one_year_only",
		program: ruleBase + `
tiers:
  levels:
    - {name: base, threshold: 0, multiplier_bp: 10000}
    - {name: silver, threshold: 1000, multiplier_bp: 15000}
`,
		stream: []string{
			`{"type":"purchase","id":"p1","member":"m","partner":"shop","amount":1000,"at":"2026-03-01T00:00:00Z"}`,
			// 2027: silver carried from 2026's spend: floor(100 × 1.5 / 100) = 1
			`{"type":"purchase","id":"p2","member":"m","partner":"shop","amount":100,"at":"2027-01-10T00:00:00Z"}`,
			// 2029: 2028 was not the year before with a metric: first level
			`{"type":"purchase","id":"p3","member":"m","partner":"shop","amount":100,"at":"2029-02-01T00:00:00Z"}`,
		},
		want: []string{
			`{"id":"p1","status":"ok","points":10,"available":10,"pending":0,"tier":"silver"}`,
			`{"id":"p2","status":"ok","points":1,"available":11,"pending":0,"tier":"silver"}`,
			`{"id":"p3","status":"ok","points":1,"available":12,"pending":0,"tier":"base"}`,
		},
	},
	{
		name:    "S5_refund_proportional_clawback_from_own_lot",
		program: ruleBase + "pending_days: 10\n",
		stream: []string{
			`{"type":"purchase","id":"p1","member":"m","partner":"shop","amount":1001,"at":"2026-01-01T00:00:00Z"}`,
			// floor(10 × 500 / 1001) − 0 = 4
			`{"type":"refund","id":"r1","member":"m","partner":"shop","original":"p1","amount":500,"at":"2026-01-02T00:00:00Z"}`,
			// floor(10 × 1001 / 1001) − 4 = 6: a full refund takes exactly P
			`{"type":"refund","id":"r2","member":"m","partner":"shop","original":"p1","amount":501,"at":"2026-01-03T00:00:00Z"}`,
			`{"type":"refund","id":"r3","member":"m","partner":"shop","original":"p1","amount":1,"at":"2026-01-03T00:00:00Z"}`,
			`{"type":"refund","id":"r4","member":"m","partner":"fuel","original":"p1","amount":1,"at":"2026-01-03T00:00:00Z"}`,
		},
		want: []string{
			`{"id":"p1","status":"ok","points":10,"available":0,"pending":10,"tier":"base"}`,
			`{"id":"r1","status":"ok","points":-4,"available":0,"pending":6,"tier":"base"}`,
			`{"id":"r2","status":"ok","points":-6,"available":0,"pending":0,"tier":"base"}`,
			`{"id":"r3","status":"error","error":"refund_exceeds_purchase"}`,
			`{"id":"r4","status":"error","error":"original_mismatch"}`,
		},
	},
	{
		name:    "S3_debt_is_repaid_first",
		program: ruleBase + "pending_days: 10\n",
		stream: []string{
			`{"type":"adjust","id":"a1","member":"m","points":-30,"at":"2026-01-01T00:00:00Z"}`,
			`{"type":"purchase","id":"p1","member":"m","partner":"shop","amount":1000,"at":"2026-01-01T00:00:00Z"}`,
			// p1's 10 matured on Jan 11 and repaid 10 of the 30 of debt
			`{"type":"purchase","id":"p2","member":"m","partner":"shop","amount":5000,"at":"2026-01-20T00:00:00Z"}`,
			// p2's 50 matured on Jan 30: 20 repay the rest of the debt
			`{"type":"tick","at":"2026-02-01T00:00:00Z"}`,
			`{"type":"redeem","id":"r1","member":"m","partner":"shop","points":31,"at":"2026-02-02T00:00:00Z"}`,
			`{"type":"redeem","id":"r2","member":"m","partner":"shop","points":30,"at":"2026-02-02T00:00:00Z"}`,
		},
		want: []string{
			`{"id":"a1","status":"ok","points":-30,"available":-30,"pending":0,"tier":"base"}`,
			`{"id":"p1","status":"ok","points":10,"available":-30,"pending":10,"tier":"base"}`,
			`{"id":"p2","status":"ok","points":50,"available":-20,"pending":50,"tier":"base"}`,
			`{"status":"ok"}`,
			`{"id":"r1","status":"error","error":"insufficient_points"}`,
			`{"id":"r2","status":"ok","points":-30,"available":0,"pending":0,"tier":"base"}`,
		},
	},
	{
		name:    "S5_cancel_returns_to_lots_and_expires_again",
		program: ruleBase + "expiry: {mode: lot, days: 30}\n",
		stream: []string{
			`{"type":"purchase","id":"p1","member":"m","partner":"shop","amount":1000,"at":"2026-01-01T00:00:00Z"}`,
			`{"type":"purchase","id":"p2","member":"m","partner":"shop","amount":2000,"at":"2026-01-10T00:00:00Z"}`,
			// earliest expiry first: 10 from p1 (Jan 31), 5 from p2 (Feb 9)
			`{"type":"redeem","id":"rd","member":"m","partner":"shop","points":15,"at":"2026-01-15T00:00:00Z"}`,
			// back into p1 (expired Jan 31: 10 expire again) and p2: +15 − 10
			`{"type":"cancel_redemption","id":"c1","original":"rd","at":"2026-02-05T00:00:00Z"}`,
			`{"type":"cancel_redemption","id":"c2","original":"rd","at":"2026-02-05T00:00:00Z"}`,
		},
		want: []string{
			`{"id":"p1","status":"ok","points":10,"available":10,"pending":0,"tier":"base"}`,
			`{"id":"p2","status":"ok","points":20,"available":30,"pending":0,"tier":"base"}`,
			`{"id":"rd","status":"ok","points":-15,"available":15,"pending":0,"tier":"base"}`,
			`{"id":"c1","status":"ok","points":5,"available":20,"pending":0,"tier":"base"}`,
			`{"id":"c2","status":"error","error":"already_cancelled"}`,
			`{"member":"m","available":20,"pending":0,"tier":"base","earned":30,"redeemed":0,"expired":10}`,
		},
	},
	{
		name:    "S4_step3_inactivity_expiry",
		program: ruleBase + "expiry: {mode: inactivity, days: 100}\n",
		stream: []string{
			`{"type":"purchase","id":"p1","member":"m","partner":"shop","amount":1000,"at":"2026-01-01T00:00:00Z"}`,
			// Jan 1 + 100 days = Apr 11: the 10 expire; an adjustment is no activity
			`{"type":"adjust","id":"a1","member":"m","points":5,"at":"2026-05-01T00:00:00Z"}`,
			// still inactive since Jan 1: the 5 expire before this purchase
			`{"type":"purchase","id":"p2","member":"m","partner":"shop","amount":100,"at":"2026-05-02T00:00:00Z"}`,
		},
		want: []string{
			`{"id":"p1","status":"ok","points":10,"available":10,"pending":0,"tier":"base"}`,
			`{"id":"a1","status":"ok","points":5,"available":5,"pending":0,"tier":"base"}`,
			`{"id":"p2","status":"ok","points":1,"available":1,"pending":0,"tier":"base"}`,
			`{"member":"m","available":1,"pending":0,"tier":"base","earned":16,"redeemed":0,"expired":15}`,
		},
	},
	{
		name:    "S6_an_ids_outcome_is_final",
		program: ruleBase,
		stream: []string{
			`{"type":"purchase","id":"d1","member":"m","partner":"shop","amount":100,"at":"2026-01-01T00:00:00Z"}`,
			`{"type":"purchase","id":"d1","member":"m","partner":"shop","amount":100,"at":"2026-03-01T00:00:00Z"}`,
			`{"type":"purchase","id":"d1","member":"m","partner":"shop","amount":200}`,
			`{"type":"redeem","id":"x1","member":"m","partner":"shop","points":1000}`,
			`{"points":1000,"partner":"shop","member":"m","id":"x1","type":"redeem"}`,
			`{"type":"purchase","id":"y1","member":"m","partner":"shop","amount":1.0}`,
			`{"type":"purchase","id":"y1","member":"m","partner":"shop","amount":100}`,
		},
		want: []string{
			`{"id":"d1","status":"ok","points":1,"available":1,"pending":0,"tier":"base"}`,
			`{"id":"d1","status":"ok","points":1,"available":1,"pending":0,"tier":"base","duplicate":true}`,
			`{"id":"d1","status":"error","error":"id_conflict"}`,
			`{"id":"x1","status":"error","error":"insufficient_points"}`,
			`{"id":"x1","status":"error","error":"insufficient_points","duplicate":true}`,
			`{"id":"y1","status":"error","error":"invalid"}`,
			`{"id":"y1","status":"ok","points":1,"available":2,"pending":0,"tier":"base"}`,
		},
	},
	{
		name:    "S6_invalid_commands",
		program: ruleBase,
		stream: []string{
			`{"type":"purchase","id":"i1","member":"m","partner":"shop","amount":1e3}`,
			`{"type":"purchase","id":"i2","member":"m","partner":"shop","amount":"100"}`,
			`{"type":"purchase","id":"i3","member":"m","partner":"shop","amount":100,"colour":"red"}`,
			`{"type":"purchase","id":"i4","member":"m","partner":"shop"}`,
			`{"type":"purchase","id":"i5","member":"m","partner":"shop","amount":100,"at":"2026-13-01T00:00:00Z"}`,
			`{"type":"purchase","id":"i6","member":"m n","partner":"shop","amount":100}`,
			`{"type":"purchase","id":"i7","member":"m","partner":"shop","amount":1000000000001}`,
			`{"type":"adjust","id":"i8","member":"m","points":0}`,
			`{"type":"purchase","id":7,"member":"m","partner":"shop","amount":100}`,
			`{"type":"purchase","id":"i9"`,
			`[1,2]`,
			`{"type":"teleport","id":"i10"}`,
			`{"type":"purchase","id":"i11","member":"m","partner":"shop","amount":NaN}`,
			`{"type":"purchase","id":"i12","member":"m","partner":"shop","amount":-Infinity}`,
		},
		want: []string{
			`{"id":"i1","status":"error","error":"invalid"}`,
			`{"id":"i2","status":"error","error":"invalid"}`,
			`{"id":"i3","status":"error","error":"invalid"}`,
			`{"id":"i4","status":"error","error":"invalid"}`,
			`{"id":"i5","status":"error","error":"invalid"}`,
			`{"id":"i6","status":"error","error":"invalid"}`,
			`{"id":"i7","status":"error","error":"invalid"}`,
			`{"id":"i8","status":"error","error":"invalid"}`,
			`{"id":"","status":"error","error":"invalid"}`,
			`{"id":"","status":"error","error":"invalid"}`,
			`{"id":"","status":"error","error":"invalid"}`,
			`{"id":"i10","status":"error","error":"invalid"}`,
			`{"id":"i11","status":"error","error":"invalid"}`,
			`{"id":"i12","status":"error","error":"invalid"}`,
		},
	},
	{
		name:    "S6_a_rejected_command_does_not_move_the_clock",
		program: ruleBase + "expiry: {mode: lot, days: 10}\n",
		stream: []string{
			`{"type":"purchase","id":"p1","member":"m","partner":"shop","amount":1000,"at":"2026-01-01T00:00:00Z"}`,
			// at Jan 20 the lot has expired: rejected, and the clock stays at Jan 1
			`{"type":"redeem","id":"r1","member":"m","partner":"shop","points":10,"at":"2026-01-20T00:00:00Z"}`,
			`{"type":"redeem","id":"r2","member":"m","partner":"shop","points":10}`,
		},
		want: []string{
			`{"id":"p1","status":"ok","points":10,"available":10,"pending":0,"tier":"base"}`,
			`{"id":"r1","status":"error","error":"insufficient_points"}`,
			`{"id":"r2","status":"ok","points":-10,"available":0,"pending":0,"tier":"base"}`,
		},
	},
	{
		name:    "S9_8_annual_expiry",
		program: ruleBase + "expiry: {mode: annual, years: 1, date: \"03-31\"}\n",
		stream: []string{
			// created before 2026-03-31: expires 2027-03-31
			`{"type":"purchase","id":"p1","member":"m","partner":"shop","amount":1000,"at":"2026-02-01T00:00:00Z"}`,
			// created on or after 2026-03-31: expires 2028-03-31
			`{"type":"purchase","id":"p2","member":"m","partner":"shop","amount":2000,"at":"2026-03-31T00:00:00Z"}`,
			`{"type":"redeem","id":"r1","member":"m","partner":"shop","points":25,"at":"2027-03-31T00:00:00Z"}`,
			`{"type":"redeem","id":"r2","member":"m","partner":"shop","points":20,"at":"2027-03-31T00:00:00Z"}`,
		},
		want: []string{
			`{"id":"p1","status":"ok","points":10,"available":10,"pending":0,"tier":"base"}`,
			`{"id":"p2","status":"ok","points":20,"available":30,"pending":0,"tier":"base"}`,
			`{"id":"r1","status":"error","error":"insufficient_points"}`,
			`{"id":"r2","status":"ok","points":-20,"available":0,"pending":0,"tier":"base"}`,
		},
	},
	{
		name:    "S9_7_a_hold_times_out",
		program: ruleBase + "redemption: {hold_timeout_s: 60}\n",
		stream: []string{
			`{"type":"purchase","id":"p1","member":"m","partner":"shop","amount":1000,"at":"2026-01-01T00:00:00Z"}`,
			`{"type":"hold","id":"h1","member":"m","partner":"shop","points":4,"at":"2026-01-01T00:00:10Z"}`,
			// deadline 00:01:10 <= t: the hold is closed
			`{"type":"capture","id":"c1","original":"h1","at":"2026-01-01T00:01:10Z"}`,
			`{"type":"adjust","id":"a1","member":"m","points":1,"at":"2026-01-01T00:01:11Z"}`,
		},
		want: []string{
			`{"id":"p1","status":"ok","points":10,"available":10,"pending":0,"tier":"base"}`,
			`{"id":"h1","status":"ok","points":-4,"available":6,"pending":0,"tier":"base","held":4}`,
			`{"id":"c1","status":"error","error":"hold_closed"}`,
			`{"id":"a1","status":"ok","points":1,"available":11,"pending":0,"tier":"base"}`,
		},
	},
}

func TestRules(t *testing.T) {
	for _, tc := range ruleCases {
		t.Run(tc.name, func(t *testing.T) {
			prog, err := ParseProgram([]byte(tc.program))
			if err != nil {
				t.Fatal(err)
			}
			got, _, _ := runStream(t, prog, []byte(strings.Join(tc.stream, "\n")), 3)
			results := len(tc.stream)
			if len(tc.want) > results {
				compareJSONLines(t, got, []byte(strings.Join(tc.want, "\n")))
				return
			}
			compareJSONLines(t, got[:results], []byte(strings.Join(tc.want, "\n")))
		})
	}
}
