package engine

const rule9Program = `
program: kinds
earn: {rate: {points: 1, per: 100}}
tiers:
  levels:
    - {name: card, threshold: 0, multiplier_bp: 10000, discount_bp: 300}
    - {name: silver, threshold: 10000, multiplier_bp: 10000, discount_bp: 500, perks: [early sales]}
partners: [{id: shop}, {id: cafe}, {id: green, rate: {points: 0, per: 1}}]
plans: [{id: plus, days: 30, multiplier_bp: 15000}]
referral: {referrer_points: 300, referred_points: 150}
challenges:
  - {id: tour, from: 2026-01-01T00:00:00Z, to: 2026-02-01T00:00:00Z, purchases: 2, distinct_partners: 2, min_amount: 500, bonus_points: 70}
actions:
  - {id: recycle, points: 40, per_member_month: 2, partner: green}
transfers: {min_points: 20}
`

func init() {
	ruleCases = append(ruleCases, []ruleCase{
		{
			name:    "S9_1_quote_changes_nothing",
			program: rule9Program,
			stream: []string{
				// an unknown member is quoted as new: 10 points, 3 % of 1000
				`{"type":"quote","member":"x","partner":"shop","amount":1000,"at":"2026-03-01T00:00:00Z"}`,
				`{"type":"purchase","id":"p1","member":"m","partner":"shop","amount":20000,"at":"2026-03-01T00:00:00Z"}`,
				// silver now: 5 %
				`{"type":"quote","id":"q2","member":"m","partner":"shop","amount":1000,"at":"2026-03-01T00:00:00Z"}`,
				`{"type":"quote","member":"m","partner":"nobody","amount":1000}`,
			},
			want: []string{
				`{"status":"ok","points":10,"discount":30,"tier":"card"}`,
				`{"id":"p1","status":"ok","points":200,"available":200,"pending":0,"tier":"silver"}`,
				`{"id":"q2","status":"ok","points":10,"discount":50,"tier":"silver"}`,
				`{"status":"error","error":"unknown_partner"}`,
				`{"member":"m","available":200,"pending":0,"tier":"silver","earned":200,"redeemed":0,"expired":0}`,
			},
		},
		{
			name:    "S9_2_paid_plan_multiplies_extends_and_lapses",
			program: rule9Program,
			stream: []string{
				`{"type":"membership","id":"mb1","member":"m","plan":"plus","at":"2026-03-01T00:00:00Z"}`,
				// floor(1000 × 15000 / (100 × 10000)) = 15
				`{"type":"purchase","id":"p1","member":"m","partner":"shop","amount":1000,"at":"2026-03-02T00:00:00Z"}`,
				// still active (until Mar 31): extended to Apr 30
				`{"type":"membership","id":"mb2","member":"m","plan":"plus","at":"2026-03-20T00:00:00Z"}`,
				`{"type":"purchase","id":"p2","member":"m","partner":"shop","amount":1000,"at":"2026-04-15T00:00:00Z"}`,
				// lapsed on Apr 30
				`{"type":"purchase","id":"p3","member":"m","partner":"shop","amount":1000,"at":"2026-05-01T00:00:00Z"}`,
				`{"type":"membership","id":"mb3","member":"n","plan":"gold","at":"2026-05-01T00:00:00Z"}`,
				`{"type":"membership","id":"mb4","member":"n","plan":"plus","at":"2026-05-01T00:00:00Z"}`,
			},
			want: []string{
				`{"id":"mb1","status":"ok","points":0,"available":0,"pending":0,"tier":"card"}`,
				`{"id":"p1","status":"ok","points":15,"available":15,"pending":0,"tier":"card"}`,
				`{"id":"mb2","status":"ok","points":0,"available":15,"pending":0,"tier":"card"}`,
				`{"id":"p2","status":"ok","points":15,"available":30,"pending":0,"tier":"card"}`,
				`{"id":"p3","status":"ok","points":10,"available":40,"pending":0,"tier":"card"}`,
				`{"id":"mb3","status":"error","error":"unknown_plan"}`,
				`{"id":"mb4","status":"ok","points":0,"available":0,"pending":0,"tier":"card"}`,
				`{"member":"m","available":40,"pending":0,"tier":"card","earned":40,"redeemed":0,"expired":0}`,
				`{"member":"n","available":0,"pending":0,"tier":"card","earned":0,"redeemed":0,"expired":0,"plan":"plus"}`,
			},
		},
		{
			name:    "S9_3_referral_pays_both_on_first_purchase",
			program: rule9Program,
			stream: []string{
				`{"type":"referral","id":"r0","member":"a","referred":"b","at":"2026-03-01T00:00:00Z"}`,
				`{"type":"purchase","id":"p0","member":"a","partner":"shop","amount":1000,"at":"2026-03-01T00:00:00Z"}`,
				`{"type":"referral","id":"r1","member":"a","referred":"b","at":"2026-03-01T00:00:00Z"}`,
				`{"type":"referral","id":"r2","member":"a","referred":"b","at":"2026-03-01T00:00:00Z","x":1}`,
				`{"type":"referral","id":"r3","member":"a","referred":"b","at":"2026-03-02T00:00:00Z"}`,
				`{"type":"referral","id":"r4","member":"a","referred":"a","at":"2026-03-02T00:00:00Z"}`,
				// b's own 10 and its 150; a gets 300 (not in b's points)
				`{"type":"purchase","id":"pb","member":"b","partner":"shop","amount":1000,"at":"2026-03-02T00:00:00Z"}`,
				`{"type":"purchase","id":"pb2","member":"b","partner":"shop","amount":1000,"at":"2026-03-03T00:00:00Z"}`,
			},
			want: []string{
				`{"id":"r0","status":"error","error":"referral_invalid"}`,
				`{"id":"p0","status":"ok","points":10,"available":10,"pending":0,"tier":"card"}`,
				`{"id":"r1","status":"ok","points":0,"available":10,"pending":0,"tier":"card"}`,
				`{"id":"r2","status":"error","error":"invalid"}`,
				`{"id":"r3","status":"error","error":"referral_invalid"}`,
				`{"id":"r4","status":"error","error":"invalid"}`,
				`{"id":"pb","status":"ok","points":160,"available":160,"pending":0,"tier":"card"}`,
				`{"id":"pb2","status":"ok","points":10,"available":170,"pending":0,"tier":"card"}`,
				`{"member":"a","available":310,"pending":0,"tier":"card","earned":310,"redeemed":0,"expired":0}`,
				`{"member":"b","available":170,"pending":0,"tier":"card","earned":170,"redeemed":0,"expired":0}`,
			},
		},
		{
			name:    "S9_4_challenge_bonus_once",
			program: rule9Program,
			stream: []string{
				`{"type":"purchase","id":"c1","member":"m","partner":"shop","amount":1000,"at":"2026-01-05T00:00:00Z"}`,
				`{"type":"purchase","id":"c2","member":"m","partner":"shop","amount":1000,"at":"2026-01-06T00:00:00Z"}`,
				// below min_amount: no progress
				`{"type":"purchase","id":"c3","member":"m","partner":"cafe","amount":400,"at":"2026-01-07T00:00:00Z"}`,
				// 3 purchases, 2 partners: 6 + 70
				`{"type":"purchase","id":"c4","member":"m","partner":"cafe","amount":600,"at":"2026-01-08T00:00:00Z"}`,
				`{"type":"purchase","id":"c5","member":"m","partner":"cafe","amount":600,"at":"2026-01-09T00:00:00Z"}`,
			},
			want: []string{
				`{"id":"c1","status":"ok","points":10,"available":10,"pending":0,"tier":"card"}`,
				`{"id":"c2","status":"ok","points":10,"available":20,"pending":0,"tier":"card"}`,
				`{"id":"c3","status":"ok","points":4,"available":24,"pending":0,"tier":"card"}`,
				`{"id":"c4","status":"ok","points":76,"available":100,"pending":0,"tier":"card"}`,
				`{"id":"c5","status":"ok","points":6,"available":106,"pending":0,"tier":"card"}`,
			},
		},
		{
			name:    "S9_5_actions_limited_per_month",
			program: rule9Program,
			stream: []string{
				`{"type":"action","id":"a1","member":"m","action":"recycle","at":"2026-01-01T00:00:00Z"}`,
				`{"type":"action","id":"a2","member":"m","action":"recycle","at":"2026-01-02T00:00:00Z"}`,
				`{"type":"action","id":"a3","member":"m","action":"recycle","at":"2026-01-03T00:00:00Z"}`,
				`{"type":"action","id":"a4","member":"m","action":"recycle","at":"2026-02-01T00:00:00Z"}`,
				`{"type":"action","id":"a5","member":"m","action":"swim","at":"2026-02-01T00:00:00Z"}`,
			},
			want: []string{
				`{"id":"a1","status":"ok","points":40,"available":40,"pending":0,"tier":"card"}`,
				`{"id":"a2","status":"ok","points":40,"available":80,"pending":0,"tier":"card"}`,
				`{"id":"a3","status":"error","error":"action_limit"}`,
				`{"id":"a4","status":"ok","points":40,"available":120,"pending":0,"tier":"card"}`,
				`{"id":"a5","status":"error","error":"unknown_action"}`,
			},
		},
		{
			name:    "S9_6_transfers_pool_points",
			program: rule9Program,
			stream: []string{
				`{"type":"adjust","id":"s","member":"m","points":100,"at":"2026-01-01T00:00:00Z"}`,
				`{"type":"transfer","id":"t1","member":"m","to":"k","points":10,"at":"2026-01-02T00:00:00Z"}`,
				`{"type":"transfer","id":"t2","member":"m","to":"k","points":150,"at":"2026-01-02T00:00:00Z"}`,
				`{"type":"transfer","id":"t3","member":"m","to":"k","points":60,"at":"2026-01-02T00:00:00Z"}`,
				`{"type":"transfer","id":"t4","member":"m","to":"m","points":60,"at":"2026-01-02T00:00:00Z"}`,
			},
			want: []string{
				`{"id":"s","status":"ok","points":100,"available":100,"pending":0,"tier":"card"}`,
				`{"id":"t1","status":"error","error":"below_min_transfer"}`,
				`{"id":"t2","status":"error","error":"insufficient_points"}`,
				`{"id":"t3","status":"ok","points":-60,"available":40,"pending":0,"tier":"card"}`,
				`{"id":"t4","status":"error","error":"invalid"}`,
				`{"member":"k","available":60,"pending":0,"tier":"card","earned":60,"redeemed":0,"expired":0}`,
				`{"member":"m","available":40,"pending":0,"tier":"card","earned":40,"redeemed":0,"expired":0}`,
			},
		},
	}...)
}
