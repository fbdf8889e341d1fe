package engine

import (
	"errors"
	"strings"
	"testing"
)

// TestProgramErrorsNameTheField: each invalid program of SPEC §2 (and §9)
// is rejected with an error that names the field.
func TestProgramErrorsNameTheField(t *testing.T) {
	cases := []struct {
		name, src, field string
	}{
		{"negative_rate_points", "program: x\nearn: {rate: {points: -1, per: 100}}", "earn.rate.points"},
		{"zero_per", "program: x\npartners: [{id: a, rate: {points: 1, per: 0}}]", "partners[0].rate.per"},
		{"points_over_1000_per", "program: x\nearn: {categories: {fuel: {points: 1001, per: 1}}}", "earn.categories.fuel.points"},
		{"multiplier_out_of_range", "program: x\ntiers: {levels: [{name: a, threshold: 0, multiplier_bp: 100001}]}", "tiers.levels[0].multiplier_bp"},
		{"first_threshold_not_zero", "program: x\ntiers: {levels: [{name: a, threshold: 5}]}", "tiers.levels[0].threshold"},
		{"thresholds_not_ascending", "program: x\ntiers: {levels: [{name: a, threshold: 0}, {name: b, threshold: 0}]}", "tiers.levels[1].threshold"},
		{"expiry_not_after_pending", "program: x\npending_days: 30\nexpiry: {mode: lot, days: 30}", "expiry.days"},
		{"campaign_to_before_from", "program: x\ncampaigns: [{id: c, from: 2026-02-01T00:00:00Z, to: 2026-01-01T00:00:00Z}]", "campaigns[0].to"},
		{"campaign_negative_bonus", "program: x\ncampaigns: [{id: c, from: 2026-01-01T00:00:00Z, to: 2026-02-01T00:00:00Z, bonus_points: -1}]", "campaigns[0].bonus_points"},
		{"partner_repeats", "program: x\npartners: [{id: a}, {id: a}]", "partners[1].id"},
		{"unknown_field", "program: x\nearn: {rate: {points: 1, per: 100}, bonus: 3}", "earn.bonus"},
		{"unknown_top_field", "program: x\ncolour: red", "colour"},
		{"float_where_integer", "program: x\nwelcome_bonus: 2.5", "welcome_bonus"},
		{"annual_feb_29", "program: x\nexpiry: {mode: annual, years: 2, date: \"02-29\"}", "expiry.date"},
		{"annual_years_zero", "program: x\nexpiry: {mode: annual, years: 0, date: \"03-31\"}", "expiry.years"},
		{"discount_over_100_percent", "program: x\ntiers: {levels: [{name: a, threshold: 0, discount_bp: 10001}]}", "tiers.levels[0].discount_bp"},
		{"hold_timeout_too_long", "program: x\nredemption: {hold_timeout_s: 86401}", "redemption.hold_timeout_s"},
		{"missing_program_id", "unit: points", "program"},
		// SPEC §10
		{"budget_zero", "program: x\ncampaigns: [{id: c, from: 2026-01-01T00:00:00Z, to: 2026-02-01T00:00:00Z, budget_points: 0}]", "campaigns[0].budget_points"},
		{"offer_days_zero", "program: x\noffers: [{id: o, trigger: {}, reward: {}, days: 0}]", "offers[0].days"},
		{"offer_days_over_3650", "program: x\noffers: [{id: o, trigger: {}, reward: {}, days: 3651}]", "offers[0].days"},
		{"offer_days_missing", "program: x\noffers: [{id: o, trigger: {}, reward: {}}]", "offers[0].days"},
		{"offer_repeats", "program: x\noffers: [{id: o, trigger: {}, reward: {}, days: 1}, {id: o, trigger: {}, reward: {}, days: 1}]", "offers[1].id"},
		{"offer_trigger_multiplier", "program: x\noffers: [{id: o, trigger: {multiplier_bp: 20000}, reward: {}, days: 1}]", "offers[0].trigger.multiplier_bp"},
		{"offer_reward_multiplier_range", "program: x\noffers: [{id: o, trigger: {}, reward: {multiplier_bp: 100001}, days: 1}]", "offers[0].reward.multiplier_bp"},
		{"reward_partner_not_listed", "program: x\npartners: [{id: a}]\nrewards: [{id: mug, points: 10, partner: b}]", "rewards[0].partner"},
		{"reward_points_zero", "program: x\npartners: [{id: a}]\nrewards: [{id: mug, points: 0, partner: a}]", "rewards[0].points"},
		{"reward_points_over_1e15", "program: x\npartners: [{id: a}]\nrewards: [{id: mug, points: 1000000000000001, partner: a}]", "rewards[0].points"},
		{"reward_repeats", "program: x\npartners: [{id: a}]\nrewards: [{id: mug, points: 1, partner: a}, {id: mug, points: 2, partner: a}]", "rewards[1].id"},
		{"reward_id_not_a_token", "program: x\npartners: [{id: a}]\nrewards: [{id: Mug, points: 1, partner: a}]", "rewards[0].id"},
		{"reward_negative_stock", "program: x\npartners: [{id: a}]\nrewards: [{id: mug, points: 1, partner: a, stock: -1}]", "rewards[0].stock"},
		{"daily_cap_negative", "program: x\ncaps: {per_member_day: -1}", "caps.per_member_day"},
		{"limits_unknown_field", "program: x\nlimits: {purchases_per_member_week: 3}", "limits.purchases_per_member_week"},
		{"collection_negative", "program: x\nchallenges: [{id: c, from: 2026-01-01T00:00:00Z, to: 2026-02-01T00:00:00Z, distinct_categories: -1}]", "challenges[0].distinct_categories"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseProgram([]byte(tc.src))
			var pe *ProgramError
			if !errors.As(err, &pe) {
				t.Fatalf("want a ProgramError, got %v", err)
			}
			if pe.Field != tc.field {
				t.Fatalf("error names %q, want %q (%v)", pe.Field, tc.field, err)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("message %q does not name %q", err, tc.field)
			}
		})
	}
}

// TestProgramDefaults: an almost empty program gets SPEC's defaults.
func TestProgramDefaults(t *testing.T) {
	p, err := ParseProgram([]byte("program: x"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Rate != (Rate{Points: 1, Per: 200}) || p.ExpiryMode != ExpiryNone || len(p.Levels) != 1 ||
		p.Levels[0].Name != "base" || p.Levels[0].MultiplierBP != 10000 || p.MinRedemption != 1 || p.HoldTimeoutS != 900 {
		t.Fatalf("defaults: %+v", p)
	}
}

// TestProgramJSONAndYAMLAgree: the same program in JSON and YAML parses alike.
func TestProgramJSONAndYAMLAgree(t *testing.T) {
	y, err := ParseProgram([]byte("program: x\nearn: {rate: {points: 2, per: 300}}\npartners: [{id: a}]"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := ParseProgram([]byte(`{"program":"x","earn":{"rate":{"points":2,"per":300}},"partners":[{"id":"a"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if y.Rate != j.Rate || len(y.Partners) != len(j.Partners) || y.Partners[0].ID != j.Partners[0].ID {
		t.Fatal("JSON and YAML parse differently")
	}
}
