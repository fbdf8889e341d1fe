package engine

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Parsing the §10 kinds of a program: the purchase limit, offers and the
// reward catalogue (campaign budgets, the daily cap and collections are
// fields of campaigns, caps and challenges).

const (
	maxOfferDays = 3650
	maxOffers    = 64
	maxRewards   = 4096
)

func (p *Program) parseRetail(f *fields) error {
	if n, ok := f.m["limits"]; ok && !isNull(n) {
		lf, err := mapping(n, "limits", "purchases_per_member_day")
		if err != nil {
			return err
		}
		if p.PurchasesPerDay, err = lf.int("purchases_per_member_day", 0, 0, 1<<31-1); err != nil {
			return err
		}
	}
	if err := p.parseOffers(f); err != nil {
		return err
	}
	return p.parseRewards(f)
}

func (p *Program) parseOffers(f *fields) error {
	list, err := f.list("offers")
	if err != nil {
		return err
	}
	if len(list) > maxOffers {
		return perr("offers", "at most %d offers", maxOffers)
	}
	for i, n := range list {
		o, err := p.parseOffer(n, fmt.Sprintf("offers[%d]", i))
		if err != nil {
			return err
		}
		p.Offers = append(p.Offers, o)
	}
	return nil
}

func (p *Program) parseOffer(n *yaml.Node, path string) (Offer, error) {
	var o Offer
	of, err := mapping(n, path, "id", "trigger", "reward", "days")
	if err != nil {
		return o, err
	}
	if o.ID, err = of.str("id", "", true); err != nil {
		return o, err
	}
	if o.ID == "" {
		return o, perr(path+".id", "must not be empty")
	}
	for _, q := range p.Offers {
		if q.ID == o.ID {
			return o, perr(path+".id", "offer %q appears twice", o.ID)
		}
	}
	for _, k := range [...]string{"trigger", "reward", "days"} {
		if !of.has(k) {
			return o, perr(path+"."+k, "is required")
		}
	}
	if o.Days, err = of.int("days", 0, 1, maxOfferDays); err != nil {
		return o, err
	}
	if o.Trigger, err = p.parseSelector(of.m["trigger"], path+".trigger"); err != nil {
		return o, err
	}
	rf, err := mapping(of.m["reward"], path+".reward", "partners", "categories", "min_amount", "multiplier_bp", "bonus_points")
	if err != nil {
		return o, err
	}
	if o.Reward, err = p.selector(rf); err != nil {
		return o, err
	}
	if o.MultiplierBP, err = rf.int("multiplier_bp", 10000, 0, maxMultiplierBP); err != nil {
		return o, err
	}
	if o.BonusPoints, err = rf.int("bonus_points", 0, 0, maxPointsValue); err != nil {
		return o, err
	}
	return o, nil
}

func (p *Program) parseSelector(n *yaml.Node, path string) (Selector, error) {
	sf, err := mapping(n, path, "partners", "categories", "min_amount")
	if err != nil {
		return Selector{}, err
	}
	return p.selector(sf)
}

// selector reads the selector fields of an offer's trigger or reward.
// Partners the program does not list never match, as in a campaign.
func (p *Program) selector(sf *fields) (Selector, error) {
	var s Selector
	var err error
	if s.Partners, err = sf.strList("partners"); err != nil {
		return s, err
	}
	if s.Categories, err = sf.strList("categories"); err != nil {
		return s, err
	}
	if s.MinAmount, err = sf.int("min_amount", 0, 0, maxPointsValue); err != nil {
		return s, err
	}
	for _, id := range s.Partners {
		idx, ok := p.partnerIndex[id]
		if !ok {
			idx = -1
		}
		s.partnerIdx = append(s.partnerIdx, idx)
	}
	return s, nil
}

// matches reports whether a purchase matches the selector (SPEC §10.2:
// partners and categories as for campaigns).
func (s *Selector) matches(partner int32, amount int64, category []byte) bool {
	if amount < s.MinAmount || (len(s.partnerIdx) > 0 && !containsI32(s.partnerIdx, partner)) {
		return false
	}
	return len(s.Categories) == 0 || (len(category) > 0 && containsStr(s.Categories, category))
}

func (p *Program) parseRewards(f *fields) error {
	list, err := f.list("rewards")
	if err != nil {
		return err
	}
	if len(list) > maxRewards {
		return perr("rewards", "at most %d rewards", maxRewards)
	}
	for i, n := range list {
		r, err := p.parseReward(n, fmt.Sprintf("rewards[%d]", i))
		if err != nil {
			return err
		}
		p.Rewards = append(p.Rewards, r)
	}
	return nil
}

func (p *Program) parseReward(n *yaml.Node, path string) (Reward, error) {
	var r Reward
	rf, err := mapping(n, path, "id", "points", "partner", "stock")
	if err != nil {
		return r, err
	}
	if r.ID, err = rf.str("id", "", true); err != nil {
		return r, err
	}
	if !validToken(r.ID, 32) {
		return r, perr(path+".id", "must be 1–32 bytes of [a-z0-9_-], not %q", r.ID)
	}
	if p.reward([]byte(r.ID)) >= 0 {
		return r, perr(path+".id", "reward %q appears twice", r.ID)
	}
	if !rf.has("points") {
		return r, perr(path+".points", "is required")
	}
	if r.Points, err = rf.int("points", 0, 1, maxPoints); err != nil {
		return r, err
	}
	if r.Partner, err = rf.str("partner", "", true); err != nil {
		return r, err
	}
	idx, ok := p.partnerIndex[r.Partner]
	if !ok {
		return r, perr(path+".partner", "names no partner of the program: %q", r.Partner)
	}
	r.partnerIdx = idx
	if r.Stock, err = rf.int("stock", 0, 0, maxPointsValue); err != nil {
		return r, err
	}
	return r, nil
}
