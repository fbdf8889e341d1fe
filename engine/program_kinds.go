package engine

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Parsing the §9 kinds of a program: plans, referral, challenges, actions
// and transfers (the §10 ones are in program_retail.go).

func (p *Program) parseKinds(f *fields) error {
	if err := p.parsePlans(f); err != nil {
		return err
	}
	if err := p.parseReferral(f); err != nil {
		return err
	}
	if err := p.parseChallenges(f); err != nil {
		return err
	}
	if err := p.parseActions(f); err != nil {
		return err
	}
	if err := p.parseTransfers(f); err != nil {
		return err
	}
	return p.parseRetail(f)
}

func (p *Program) parsePlans(f *fields) error {
	plans, err := f.list("plans")
	if err != nil {
		return err
	}
	for i, n := range plans {
		pl, err := p.parsePlan(n, fmt.Sprintf("plans[%d]", i))
		if err != nil {
			return err
		}
		p.Plans = append(p.Plans, pl)
	}
	if len(p.Plans) > 250 {
		return perr("plans", "at most 250 plans")
	}
	return nil
}

func (p *Program) parsePlan(n *yaml.Node, path string) (Plan, error) {
	var pl Plan
	pf, err := mapping(n, path, "id", "days", "multiplier_bp")
	if err != nil {
		return pl, err
	}
	if pl.ID, err = pf.str("id", "", true); err != nil {
		return pl, err
	}
	if pl.ID == "" {
		return pl, perr(path+".id", "must not be empty")
	}
	for _, q := range p.Plans {
		if q.ID == pl.ID {
			return pl, perr(path+".id", "plan %q appears twice", pl.ID)
		}
	}
	if !pf.has("days") {
		return pl, perr(path+".days", "is required")
	}
	if pl.Days, err = pf.int("days", 0, 1, maxProgramDays); err != nil {
		return pl, err
	}
	if pl.MultiplierBP, err = pf.int("multiplier_bp", 10000, 0, maxMultiplierBP); err != nil {
		return pl, err
	}
	return pl, nil
}

func (p *Program) parseReferral(f *fields) error {
	n, ok := f.m["referral"]
	if !ok || isNull(n) {
		return nil
	}
	rf, err := mapping(n, "referral", "referrer_points", "referred_points")
	if err != nil {
		return err
	}
	p.HasReferral = true
	if p.ReferrerPoints, err = rf.int("referrer_points", 0, 0, maxPointsValue); err != nil {
		return err
	}
	if p.ReferredPoints, err = rf.int("referred_points", 0, 0, maxPointsValue); err != nil {
		return err
	}
	return nil
}

func (p *Program) parseChallenges(f *fields) error {
	chs, err := f.list("challenges")
	if err != nil {
		return err
	}
	for i, n := range chs {
		c, err := p.parseChallenge(n, fmt.Sprintf("challenges[%d]", i))
		if err != nil {
			return err
		}
		p.Challenges = append(p.Challenges, c)
	}
	if len(p.Challenges) > 64 {
		return perr("challenges", "at most 64 challenges")
	}
	return nil
}

func (p *Program) parseChallenge(n *yaml.Node, path string) (Challenge, error) {
	var c Challenge
	cf, err := mapping(n, path, "id", "from", "to", "purchases", "distinct_partners", "distinct_categories",
		"min_amount", "bonus_points")
	if err != nil {
		return c, err
	}
	if c.ID, err = cf.str("id", "", true); err != nil {
		return c, err
	}
	for _, q := range p.Challenges {
		if q.ID == c.ID {
			return c, perr(path+".id", "challenge %q appears twice", c.ID)
		}
	}
	if c.FromMS, err = cf.time("from"); err != nil {
		return c, err
	}
	if c.ToMS, err = cf.time("to"); err != nil {
		return c, err
	}
	if c.ToMS <= c.FromMS {
		return c, perr(path+".to", "must be after from")
	}
	if c.Purchases, err = cf.int("purchases", 1, 0, 1<<31); err != nil {
		return c, err
	}
	// Default 0 since SPEC §10.3; a counting purchase always adds its
	// partner, so the old default of 1 completed the same challenges.
	if c.DistinctPartners, err = cf.int("distinct_partners", 0, 0, 1<<16); err != nil {
		return c, err
	}
	if c.DistinctCategories, err = cf.int("distinct_categories", 0, 0, 1<<16); err != nil {
		return c, err
	}
	if c.MinAmount, err = cf.int("min_amount", 0, 0, maxPointsValue); err != nil {
		return c, err
	}
	if c.BonusPoints, err = cf.int("bonus_points", 0, 0, maxPointsValue); err != nil {
		return c, err
	}
	return c, nil
}

func (p *Program) parseActions(f *fields) error {
	acts, err := f.list("actions")
	if err != nil {
		return err
	}
	for i, n := range acts {
		a, err := p.parseAction(n, fmt.Sprintf("actions[%d]", i))
		if err != nil {
			return err
		}
		p.Actions = append(p.Actions, a)
	}
	if len(p.Actions) > 64 {
		return perr("actions", "at most 64 actions")
	}
	return nil
}

func (p *Program) parseAction(n *yaml.Node, path string) (Action, error) {
	var a Action
	af, err := mapping(n, path, "id", "points", "per_member_month", "partner")
	if err != nil {
		return a, err
	}
	if a.ID, err = af.str("id", "", true); err != nil {
		return a, err
	}
	for _, q := range p.Actions {
		if q.ID == a.ID {
			return a, perr(path+".id", "action %q appears twice", a.ID)
		}
	}
	if !af.has("points") {
		return a, perr(path+".points", "is required")
	}
	if a.Points, err = af.int("points", 0, 0, maxPointsValue); err != nil {
		return a, err
	}
	if a.PerMemberMonth, err = af.int("per_member_month", 0, 0, 1<<31); err != nil {
		return a, err
	}
	if a.Partner, err = af.str("partner", "", false); err != nil {
		return a, err
	}
	a.partnerIdx = -1
	if a.Partner != "" {
		idx, ok := p.partnerIndex[a.Partner]
		if !ok {
			return a, perr(path+".partner", "names no partner of the program: %q", a.Partner)
		}
		a.partnerIdx = idx
	}
	return a, nil
}

func (p *Program) parseTransfers(f *fields) error {
	n, ok := f.m["transfers"]
	if !ok || isNull(n) {
		return nil
	}
	tf, err := mapping(n, "transfers", "min_points")
	if err != nil {
		return err
	}
	p.HasTransfers = true
	if p.MinTransfer, err = tf.int("min_points", 1, 0, maxPointsValue); err != nil {
		return err
	}
	return nil
}
