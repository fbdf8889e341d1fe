package engine

import "math"

// SPEC §10 on the purchase path: campaign budgets, offers (the sales
// spiral) and the day counters of the daily cap and purchase limit.

// noOffer in memberRetail.offers: the member does not hold that offer.
const noOffer = math.MinInt64

// budgetTable is what campaign budgets have spent, kept by campaign id so
// that a program change may reorder or drop campaigns: a row per campaign
// that has spent anything, in the order of first spend (so the table, and
// the snapshot, depend only on the log). slot caches, per campaign of
// prog, its row (-1: none yet).
type budgetTable struct {
	ids   []string
	spent []int64
	prog  *Program
	slot  []int32
}

// spentOf returns what campaign ci of the current program has spent. It
// changes nothing, so a quote under a scheduled program may ask too.
func (e *Engine) spentOf(ci int) int64 {
	b := &e.budgets
	if b.prog == e.prog {
		if s := b.slot[ci]; s >= 0 {
			return b.spent[s]
		}
		return 0
	}
	id := e.prog.Campaigns[ci].ID
	for k := range b.ids {
		if b.ids[k] == id {
			return b.spent[k]
		}
	}
	return 0
}

// spend adds points to campaign ci's spent, making its row on first use.
func (e *Engine) spend(ci int, points int64) {
	b := &e.budgets
	if b.prog != e.prog {
		b.prog = e.prog
		b.slot = b.slot[:0]
		for k := range e.prog.Campaigns {
			b.slot = append(b.slot, int32(indexOf(b.ids, e.prog.Campaigns[k].ID)))
		}
	}
	if b.slot[ci] < 0 {
		b.slot[ci] = int32(len(b.ids))
		b.ids = append(b.ids, e.names.str([]byte(e.prog.Campaigns[ci].ID)))
		b.spent = append(b.spent, 0)
	}
	b.spent[b.slot[ci]] += points
}

func indexOf(s []string, v string) int {
	for i := range s {
		if s[i] == v {
			return i
		}
	}
	return -1
}

// buyScratch is what earn leaves for commitRetail: the matching
// campaigns (program order) with what each contributes, and the usable
// offers the member holds. Reused, so a purchase allocates nothing.
type buyScratch struct {
	campaigns []int32
	gives     []int64
	offers    []int32
}

// bonusMultiplier finds the campaigns and usable offers that match a
// purchase (SPEC §5 step 3, §10.1 steps 1–2) and returns C with its giver:
// a position in e.buy.campaigns, else in e.buy.offers (-1: none).
func (e *Engine) bonusMultiplier(m *member, partner int32, amount int64, category []byte, tier uint8, t int64) (cBP int64, giverC, giverO int) {
	p, b := e.prog, &e.buy
	b.campaigns, b.offers = b.campaigns[:0], b.offers[:0]
	cBP, giverC, giverO = 10000, -1, -1
	for ci := range p.Campaigns {
		c := &p.Campaigns[ci]
		if t < c.FromMS || t >= c.ToMS || amount < c.MinAmount {
			continue
		}
		if len(c.partnerIdx) > 0 && !containsI32(c.partnerIdx, partner) {
			continue
		}
		if len(c.tierIdx) > 0 && !containsI32(c.tierIdx, int32(tier)) {
			continue
		}
		if len(c.Categories) > 0 && (len(category) == 0 || !containsStr(c.Categories, category)) {
			continue
		}
		if c.BudgetPoints > 0 && e.spentOf(ci) >= c.BudgetPoints {
			continue
		}
		if giverC < 0 || c.MultiplierBP > cBP {
			cBP, giverC = c.MultiplierBP, len(b.campaigns)
		}
		b.campaigns = append(b.campaigns, int32(ci))
	}
	if m.ext == nil || m.ext.retail == nil {
		return cBP, giverC, giverO
	}
	for oi, until := range m.ext.retail.offers {
		if oi >= len(p.Offers) || t >= until || !p.Offers[oi].Reward.matches(partner, amount, category) {
			continue
		}
		if mult := p.Offers[oi].MultiplierBP; (giverC < 0 && giverO < 0) || mult > cBP {
			cBP, giverC, giverO = mult, -1, len(b.offers)
		}
		b.offers = append(b.offers, int32(oi))
	}
	return cBP, giverC, giverO
}

// contributions returns the sum of what the matching campaigns and usable
// offers add to a purchase's base points (SPEC §10.1 step 4), extra being
// the multiplier's extra E. Budgets cut a campaign's part; what each
// campaign gives is left in e.buy.gives, for commitRetail to spend.
func (e *Engine) contributions(extra int64, giverC, giverO int) int64 {
	p, b := e.prog, &e.buy
	b.gives = b.gives[:0]
	var sum int64
	for k, ci := range b.campaigns {
		c := &p.Campaigns[ci]
		x := c.BonusPoints
		if k == giverC {
			x = satAdd(x, extra)
		}
		if c.BudgetPoints > 0 {
			x = min(x, c.BudgetPoints-e.spentOf(int(ci)))
		}
		b.gives = append(b.gives, x)
		sum = satAdd(sum, x)
	}
	for k, oi := range b.offers {
		x := p.Offers[oi].BonusPoints
		if k == giverO {
			x = satAdd(x, extra)
		}
		sum = satAdd(sum, x)
	}
	return sum
}

// satAdd adds two values within ±2^62, saturating above at bound+1.
func satAdd(a, b int64) int64 {
	s := a + b
	if (a > 0 && b > 0 && s < 0) || s > bound {
		return bound + 1
	}
	return s
}

// commitRetail records an accepted purchase's §10 effects: budgets spend
// what earn computed, the offers it used are gone, the offers it triggers
// are granted (after, so it may renew one it used), and the day counters
// count it with its points.
func (e *Engine) commitRetail(m *member, partner int32, amount int64, category []byte, total, t int64) {
	p, b := e.prog, &e.buy
	for k, ci := range b.campaigns {
		if g := b.gives[k]; g > 0 && p.Campaigns[ci].BudgetPoints > 0 {
			e.spend(int(ci), g)
		}
	}
	for _, oi := range b.offers {
		m.ext.retail.offers[oi] = noOffer
	}
	for oi := range p.Offers {
		o := &p.Offers[oi]
		if !o.Trigger.matches(partner, amount, category) {
			continue
		}
		r := e.retail(m)
		for len(r.offers) <= oi {
			r.offers = append(r.offers, noOffer)
		}
		r.offers[oi] = t + o.Days*msPerDay
	}
	if p.hasDayCounters() {
		r := e.retail(m)
		if d := dayKey(t); r.day != d {
			r.day, r.dayPurchases, r.dayEarned = d, 0, 0
		}
		r.dayPurchases++
		r.dayEarned += total
	}
}

func (e *Engine) retail(m *member) *memberRetail {
	x := e.ext(m)
	if x.retail == nil {
		x.retail = &memberRetail{}
	}
	return x.retail
}

// dayKey returns the number of t's UTC day since 1970-01-01.
func dayKey(tMS int64) int32 { return int32(floorDiv(tMS, msPerDay)) }

// today returns the member's accepted purchases and their points on t's day.
func (m *member) today(t int64) (purchases, earned int64) {
	if m.ext == nil || m.ext.retail == nil || m.ext.retail.day != dayKey(t) {
		return 0, 0
	}
	return int64(m.ext.retail.dayPurchases), m.ext.retail.dayEarned
}

// BudgetView is a campaign budget as of now (SPEC §10.1).
type BudgetView struct {
	Campaign string
	Budget   int64
	Spent    int64
	Left     int64
}

// Budgets returns every campaign of the program that has a budget, in
// program order.
func (e *Engine) Budgets() []BudgetView {
	var out []BudgetView
	for ci := range e.prog.Campaigns {
		c := &e.prog.Campaigns[ci]
		if c.BudgetPoints > 0 {
			s := e.spentOf(ci)
			out = append(out, BudgetView{Campaign: c.ID, Budget: c.BudgetPoints, Spent: s, Left: max(0, c.BudgetPoints-s)})
		}
	}
	return out
}

// StockView is a reward of the catalogue as of now (SPEC §10.5).
type StockView struct {
	Reward  string
	Points  int64
	Partner string
	Stock   int64 // 0: unlimited
	Claimed int64 // claims not cancelled
	Left    int64 // Stock − Claimed, not below 0; -1 when unlimited
}

// Stock returns every reward of the catalogue, in program order.
func (e *Engine) Stock() []StockView {
	out := make([]StockView, 0, len(e.prog.Rewards))
	for wi := range e.prog.Rewards {
		w := &e.prog.Rewards[wi]
		v := StockView{Reward: w.ID, Points: w.Points, Partner: w.Partner, Stock: w.Stock, Claimed: e.claimed[wi], Left: -1}
		if w.Stock > 0 {
			v.Left = max(0, w.Stock-v.Claimed)
		}
		out = append(out, v)
	}
	return out
}
