package engine

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Parsing the core of a program (SPEC §2): earning, expiry, tiers, caps,
// redemption, partners and campaigns.

func (p *Program) parse(root *yaml.Node) error {
	f, err := mapping(root, "", "program", "unit", "currency", "earn", "pending_days", "expiry", "tiers",
		"caps", "welcome_bonus", "redemption", "partners", "campaigns",
		"plans", "referral", "challenges", "actions", "transfers", "offers", "rewards", "limits")
	if err != nil {
		return err
	}
	if p.ID, err = f.str("program", "", true); err != nil {
		return err
	}
	if p.Unit, err = f.str("unit", "points", false); err != nil {
		return err
	}
	if p.Unit != "points" && p.Unit != "money" {
		return perr("unit", "must be points or money, not %q", p.Unit)
	}
	if p.Currency, err = f.str("currency", "", false); err != nil {
		return err
	}
	p.Rate = Rate{Points: 1, Per: 200}
	if n, ok := f.m["earn"]; ok && !isNull(n) {
		ef, err := mapping(n, "earn", "rate", "categories")
		if err != nil {
			return err
		}
		if rn, ok := ef.m["rate"]; ok {
			if p.Rate, err = parseRate(rn, "earn.rate"); err != nil {
				return err
			}
		}
		if p.Categories, err = parseCategoryRates(ef.m["categories"], "earn.categories"); err != nil {
			return err
		}
	}
	if p.PendingDays, err = f.int("pending_days", 0, 0, maxProgramDays); err != nil {
		return err
	}
	p.ExpiryMode = ExpiryNone
	if n, ok := f.m["expiry"]; ok && !isNull(n) {
		if err := p.parseExpiry(n); err != nil {
			return err
		}
	}
	if err := p.parseTiers(f.m["tiers"]); err != nil {
		return err
	}
	if n, ok := f.m["caps"]; ok && !isNull(n) {
		cf, err := mapping(n, "caps", "per_purchase", "per_member_month", "per_member_day")
		if err != nil {
			return err
		}
		if p.CapPerPurchase, err = cf.int("per_purchase", 0, 0, maxPointsValue); err != nil {
			return err
		}
		if p.CapPerMemberMonth, err = cf.int("per_member_month", 0, 0, maxPointsValue); err != nil {
			return err
		}
		if p.CapPerMemberDay, err = cf.int("per_member_day", 0, 0, maxPointsValue); err != nil {
			return err
		}
	}
	if p.WelcomeBonus, err = f.int("welcome_bonus", 0, 0, maxPointsValue); err != nil {
		return err
	}
	p.MinRedemption, p.HoldTimeoutS = 1, 900
	if n, ok := f.m["redemption"]; ok && !isNull(n) {
		rf, err := mapping(n, "redemption", "min_points", "hold_timeout_s")
		if err != nil {
			return err
		}
		if p.MinRedemption, err = rf.int("min_points", 1, 0, maxPointsValue); err != nil {
			return err
		}
		if p.HoldTimeoutS, err = rf.int("hold_timeout_s", 900, 1, 86400); err != nil {
			return err
		}
	}
	if err := p.parsePartners(f); err != nil {
		return err
	}
	if err := p.parseCampaigns(f); err != nil {
		return err
	}
	return p.parseKinds(f)
}

func (p *Program) parseExpiry(n *yaml.Node) error {
	ef, err := mapping(n, "expiry", "mode", "days", "years", "date")
	if err != nil {
		return err
	}
	if p.ExpiryMode, err = ef.str("mode", ExpiryNone, false); err != nil {
		return err
	}
	switch p.ExpiryMode {
	case ExpiryNone:
	case ExpiryLot, ExpiryInactivity:
		if !ef.has("days") {
			return perr("expiry.days", "is required in mode %s", p.ExpiryMode)
		}
		if p.ExpiryDays, err = ef.int("days", 0, 1, maxProgramDays); err != nil {
			return err
		}
		if p.ExpiryDays <= p.PendingDays {
			return perr("expiry.days", "must be greater than pending_days (%d)", p.PendingDays)
		}
	case ExpiryAnnual:
		if p.ExpiryYears, err = ef.int("years", 0, 1, 100); err != nil {
			return err
		}
		if !ef.has("years") {
			return perr("expiry.years", "is required in mode annual")
		}
		d, err := ef.str("date", "", true)
		if err != nil {
			return err
		}
		m, okm := digits([]byte(d), 2)
		day, okd := digits([]byte(d)[min(3, len(d)):], 2)
		if len(d) != 5 || d[2] != '-' || !okm || !okd || m < 1 || m > 12 || day < 1 || day > daysInMonth(2001, m) {
			return perr("expiry.date", "must be MM-DD and exist in every year, not %q", d)
		}
		p.ExpiryMonth, p.ExpiryDay = m, day
	default:
		return perr("expiry.mode", "must be none, lot, inactivity or annual, not %q", p.ExpiryMode)
	}
	return nil
}

func (p *Program) parseTiers(n *yaml.Node) error {
	p.Metric = "spend"
	if n == nil || isNull(n) {
		p.Levels = []Level{{Name: "base", MultiplierBP: 10000}}
		return nil
	}
	tf, err := mapping(n, "tiers", "metric", "levels")
	if err != nil {
		return err
	}
	if p.Metric, err = tf.str("metric", "spend", false); err != nil {
		return err
	}
	if p.Metric != "spend" && p.Metric != "purchases" {
		return perr("tiers.metric", "must be spend or purchases, not %q", p.Metric)
	}
	levels, err := tf.list("levels")
	if err != nil {
		return err
	}
	if len(levels) == 0 {
		return perr("tiers.levels", "must list at least one level")
	}
	if len(levels) > 255 {
		return perr("tiers.levels", "at most 255 levels")
	}
	for i, ln := range levels {
		path := fmt.Sprintf("tiers.levels[%d]", i)
		lf, err := mapping(ln, path, "name", "threshold", "multiplier_bp", "discount_bp", "perks")
		if err != nil {
			return err
		}
		var l Level
		if l.Name, err = lf.str("name", "", true); err != nil {
			return err
		}
		if l.Name == "" {
			return perr(path+".name", "must not be empty")
		}
		if l.Threshold, err = lf.int("threshold", 0, 0, maxPointsValue); err != nil {
			return err
		}
		if l.MultiplierBP, err = lf.int("multiplier_bp", 10000, 0, maxMultiplierBP); err != nil {
			return err
		}
		if l.DiscountBP, err = lf.int("discount_bp", 0, 0, 10000); err != nil {
			return err
		}
		if l.Perks, err = lf.strList("perks"); err != nil {
			return err
		}
		if i == 0 && l.Threshold != 0 {
			return perr(path+".threshold", "the first level's threshold must be 0")
		}
		if i > 0 && l.Threshold <= p.Levels[i-1].Threshold {
			return perr(path+".threshold", "thresholds must be strictly ascending")
		}
		for _, prev := range p.Levels {
			if prev.Name == l.Name {
				return perr(path+".name", "level %q appears twice", l.Name)
			}
		}
		p.Levels = append(p.Levels, l)
	}
	return nil
}

func (p *Program) parsePartners(f *fields) error {
	list, err := f.list("partners")
	if err != nil {
		return err
	}
	p.partnerIndex = map[string]int32{}
	for i, pn := range list {
		path := fmt.Sprintf("partners[%d]", i)
		pf, err := mapping(pn, path, "id", "rate", "categories")
		if err != nil {
			return err
		}
		var pt Partner
		if pt.ID, err = pf.str("id", "", true); err != nil {
			return err
		}
		if !validToken(pt.ID, 32) {
			return perr(path+".id", "must be 1–32 bytes of [a-z0-9_-], not %q", pt.ID)
		}
		if _, dup := p.partnerIndex[pt.ID]; dup {
			return perr(path+".id", "partner %q appears twice", pt.ID)
		}
		if rn, ok := pf.m["rate"]; ok && !isNull(rn) {
			if pt.Rate, err = parseRate(rn, path+".rate"); err != nil {
				return err
			}
			pt.HasRate = true
		}
		if pt.Categories, err = parseCategoryRates(pf.m["categories"], path+".categories"); err != nil {
			return err
		}
		p.partnerIndex[pt.ID] = int32(len(p.Partners))
		p.Partners = append(p.Partners, pt)
	}
	if len(p.Partners) > 1<<16 {
		return perr("partners", "at most 65536 partners")
	}
	return nil
}

func (p *Program) parseCampaigns(f *fields) error {
	list, err := f.list("campaigns")
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, cn := range list {
		path := fmt.Sprintf("campaigns[%d]", i)
		cf, err := mapping(cn, path, "id", "from", "to", "partners", "categories", "tiers",
			"min_amount", "multiplier_bp", "bonus_points", "budget_points")
		if err != nil {
			return err
		}
		var c Campaign
		if c.ID, err = cf.str("id", "", true); err != nil {
			return err
		}
		if seen[c.ID] {
			return perr(path+".id", "campaign %q appears twice", c.ID)
		}
		seen[c.ID] = true
		if c.FromMS, err = cf.time("from"); err != nil {
			return err
		}
		if c.ToMS, err = cf.time("to"); err != nil {
			return err
		}
		if c.ToMS <= c.FromMS {
			return perr(path+".to", "must be after from")
		}
		if c.Partners, err = cf.strList("partners"); err != nil {
			return err
		}
		if c.Categories, err = cf.strList("categories"); err != nil {
			return err
		}
		if c.Tiers, err = cf.strList("tiers"); err != nil {
			return err
		}
		if c.MinAmount, err = cf.int("min_amount", 0, -1<<63, maxPointsValue); err != nil {
			return err
		}
		if c.MinAmount < 0 {
			return perr(path+".min_amount", "must not be negative")
		}
		if c.MultiplierBP, err = cf.int("multiplier_bp", 10000, 0, maxMultiplierBP); err != nil {
			return err
		}
		if c.BonusPoints, err = cf.int("bonus_points", 0, -1<<63, maxPointsValue); err != nil {
			return err
		}
		if c.BonusPoints < 0 {
			return perr(path+".bonus_points", "must not be negative")
		}
		if c.BudgetPoints, err = cf.int("budget_points", 0, 1, maxPointsValue); err != nil {
			return err
		}
		// Names the program does not list never match; SPEC does not make them invalid.
		for _, id := range c.Partners {
			idx, ok := p.partnerIndex[id]
			if !ok {
				idx = -1
			}
			c.partnerIdx = append(c.partnerIdx, idx)
		}
		for _, name := range c.Tiers {
			idx := int32(-1)
			for li, l := range p.Levels {
				if l.Name == name {
					idx = int32(li)
				}
			}
			c.tierIdx = append(c.tierIdx, idx)
		}
		p.Campaigns = append(p.Campaigns, c)
	}
	return nil
}
