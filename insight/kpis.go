package insight

import (
	"math"
	"slices"
	"sort"

	"github.com/accrual/accrual/engine"
)

// Options configure Compute.
type Options struct {
	// PointValueMinor is the money value of one point in minor currency
	// units (1 = one cent per point; 0.5 allowed). 0: money figures are 0.
	// A program of unit money counts its points as minor units: use 1.
	PointValueMinor float64
	// ActiveDays are the activity windows; default 30, 90, 365.
	ActiveDays []int
	// ChurnDays is the inactivity after which a buyer counts as churned;
	// default 90.
	ChurnDays int
}

func (o *Options) defaults() {
	if len(o.ActiveDays) == 0 {
		o.ActiveDays = []int{30, 90, 365}
	}
	if o.ChurnDays <= 0 {
		o.ChurnDays = 90
	}
}

// KPIs is the report of Compute; docs/INSIGHT.md defines every field.
type KPIs struct {
	Program         string  `json:"program"`
	Unit            string  `json:"unit"`
	Currency        string  `json:"currency"`
	Clock           string  `json:"clock"`
	ClockMS         int64   `json:"clock_ms"`
	ObservedFrom    string  `json:"observed_from,omitempty"`
	Complete        bool    `json:"complete"` // the collector saw the history from an empty engine
	PointValueMinor float64 `json:"point_value_minor"`

	Commands CommandCounts `json:"commands"`

	Members    int              `json:"members"`
	Buyers     int              `json:"buyers"`
	Active     []ActiveWindow   `json:"active"`
	Churn      Churn            `json:"churn"`
	Retention  []Cohort         `json:"retention"`
	Points     PointTotals      `json:"points"`
	Liability  Liability        `json:"liability"`
	Tiers      []TierCount      `json:"tiers"`
	TierMoves  []TierMove       `json:"tier_moves"`
	Upgrades   int64            `json:"tier_upgrades"`
	Downgrades int64            `json:"tier_downgrades"`
	Partners   []PartnerFigures `json:"partners"`
	Spend      SpendStats       `json:"spend"`
	Monthly    []MonthFlow      `json:"monthly"`
	// SPEC §10: each campaign budget and each reward of the catalogue at
	// the clock; absent when the program has none.
	Budgets   []Budget `json:"budgets,omitempty"`
	Catalogue []Reward `json:"catalogue,omitempty"`
}

// CommandCounts count the observed commands by outcome.
type CommandCounts struct {
	Observed   int64 `json:"observed"`
	Accepted   int64 `json:"accepted"`
	Rejected   int64 `json:"rejected"`
	Duplicates int64 `json:"duplicates"`
	Purchases  int64 `json:"purchases"`
	Redeems    int64 `json:"redemptions"`
}

// ActiveWindow is the number of members active in the last Days days.
type ActiveWindow struct {
	Days    int     `json:"days"`
	Members int     `json:"members"`
	Share   float64 `json:"share"` // of all members
}

// Churn: of the buyers whose first purchase is at least Days days before
// the clock, the share with no purchase or redemption in the last Days days.
type Churn struct {
	Days    int     `json:"days"`
	Base    int     `json:"base"`
	Churned int     `json:"churned"`
	Rate    float64 `json:"rate"`
}

// Cohort is the buyers whose first purchase fell in Month, and how many of
// them were active (purchase or redemption) in each month since (offset 0 =
// the cohort month, always all of them).
type Cohort struct {
	Month     string    `json:"month"`
	Size      int64     `json:"size"`
	Active    []int64   `json:"active"`
	Retention []float64 `json:"retention"`
}

// PointTotals are program-wide point figures (engine.Totals) and rates.
type PointTotals struct {
	Issued      int64 `json:"issued"`
	Rewards     int64 `json:"rewards"`
	Adjustments int64 `json:"adjustments"`
	Earned      int64 `json:"earned"` // issued + rewards + adjustments
	Redeemed    int64 `json:"redeemed"`
	Breakage    int64 `json:"breakage"`     // expired by the clock, ledger entries written or not
	BreakageDue int64 `json:"breakage_due"` // of which not yet written (next tick or touch writes it)
	Outstanding int64 `json:"outstanding"`  // at the clock: = liability.points
	// LedgerOutstanding is the engine's running figure (engine.Totals,
	// GET /v1/stats): outstanding + breakage_due.
	LedgerOutstanding int64   `json:"ledger_outstanding"`
	RedemptionRate    float64 `json:"redemption_rate"`
	BreakageRate      float64 `json:"breakage_rate"`
}

// Liability is the outstanding points by expiry month, with money values.
type Liability struct {
	Points     int64             `json:"points"`
	MoneyMinor int64             `json:"money_minor"`
	Available  int64             `json:"available"`
	Pending    int64             `json:"pending"`
	Held       int64             `json:"held"`
	Debt       int64             `json:"debt"` // negative balances, as a positive number
	ByExpiry   []LiabilityBucket `json:"by_expiry"`
}

// LiabilityBucket is one expiry month ("2027-03"), or "never" (lots that
// never expire by date), "held" (points held at a till) or "debt".
type LiabilityBucket struct {
	Month      string `json:"month"`
	Points     int64  `json:"points"`
	Pending    int64  `json:"pending"`
	MoneyMinor int64  `json:"money_minor"`
}

// TierCount is the number of members in a tier at the clock.
type TierCount struct {
	Tier    string  `json:"tier"`
	Members int     `json:"members"`
	Share   float64 `json:"share"`
}

// TierMove counts observed tier changes from one tier to another.
type TierMove struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Count int64  `json:"count"`
}

// SpendStats describe lifetime spend per buyer (LTV basis), minor units.
type SpendStats struct {
	Buyers        int     `json:"buyers"`
	TotalMinor    int64   `json:"total_minor"`
	MeanMinor     float64 `json:"mean_minor"`
	MedianMinor   int64   `json:"median_minor"`
	P90Minor      int64   `json:"p90_minor"`
	P99Minor      int64   `json:"p99_minor"`
	MaxMinor      int64   `json:"max_minor"`
	MeanPurchases float64 `json:"mean_purchases"`
}

// MonthFlow is one calendar month of point movements and activity.
type MonthFlow struct {
	Month      string `json:"month"`
	Earned     int64  `json:"earned"`
	ClawedBack int64  `json:"clawed_back"`
	Redeemed   int64  `json:"redeemed"`
	Returned   int64  `json:"returned"`
	Breakage   int64  `json:"breakage"`
	Adjusted   int64  `json:"adjusted"`
	Active     int64  `json:"active_buyers"`
	NewBuyers  int64  `json:"new_buyers"`
}

func ratio(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func money(points int64, value float64) int64 {
	return int64(math.Round(float64(points) * value))
}

// Compute reports the KPIs of the observed stream and the engine's state at
// its clock. eng must be the engine the collector observed (or, with
// Complete false, one it observed since some point). It scans every member
// once (a view with lots); the caller holds whatever lock guards eng.
func Compute(c *Collector, eng *engine.Engine, opt Options) *KPIs {
	opt.defaults()
	p := eng.Program()
	clock := eng.ClockMS()
	k := &KPIs{Program: p.ID, Unit: p.Unit, Currency: p.Currency, Clock: engine.FormatTime(clock),
		ClockMS: clock, PointValueMinor: opt.PointValueMinor, Members: eng.Members()}
	if c == nil {
		c = NewCollector(p)
	}
	k.Complete = !c.partial
	if c.firstMS != noTime {
		k.ObservedFrom = engine.FormatTime(c.firstMS)
	}
	k.Commands = CommandCounts{Observed: c.commands, Accepted: c.accepted, Rejected: c.rejected,
		Duplicates: c.duplicates, Purchases: c.byType[engine.TypePurchase], Redeems: c.byType[engine.TypeRedeem]}

	// Points: the engine's running totals.
	t := eng.Totals()
	k.Points = PointTotals{Issued: t.Issued, Rewards: t.Rewards, Adjustments: t.Adjustments,
		Earned: t.Issued + t.Rewards + t.Adjustments, Redeemed: t.Redeemed, LedgerOutstanding: t.Outstanding}

	tiers := k.scanState(eng, p, opt.PointValueMinor)
	// Lazy lifecycle: the views are at the clock, the running totals as of
	// the last write; only expiry changes a member's total, so the gap is
	// breakage that is due but not yet written.
	k.Points.Outstanding = k.Liability.Points
	k.Points.BreakageDue = t.Outstanding - k.Liability.Points
	k.Points.Breakage = t.Breakage + k.Points.BreakageDue
	k.Points.RedemptionRate = ratio(k.Points.Redeemed, k.Points.Earned)
	k.Points.BreakageRate = ratio(k.Points.Breakage, k.Points.Earned)
	k.addTiers(p, tiers, c.moves)

	k.addMembers(c, clock, opt)
	activeByMonth, newByMonth := k.addRetention(c)
	k.addMonthly(c, activeByMonth, newByMonth)

	k.Partners = partnerFigures(c, p)
	k.Budgets, k.Catalogue = budgets(eng), catalogue(eng)
	return k
}

// partnerFigures lists every partner of the program in force (p, which may
// have more partners than the collector's, after PUT /v1/program) with the
// figures observed for it, by id.
func partnerFigures(c *Collector, p *engine.Program) []PartnerFigures {
	n := max(len(p.Partners), len(c.partners))
	out := make([]PartnerFigures, 0, n)
	for i := 0; i < n; i++ {
		var pf PartnerFigures
		if i < len(c.partners) {
			pf = c.partners[i]
		}
		if i < len(p.Partners) {
			pf.Partner = p.Partners[i].ID
		}
		pf.Spend += c.newSpend[pf.Partner]
		pf.Net = pf.Issued - pf.ClawedBack - pf.Redeemed + pf.Returned
		out = append(out, pf)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Partner < out[j].Partner })
	return out
}

// scanState walks every member's view at the clock: it fills the liability
// by expiry and returns the members per tier (p.Levels order).
func (k *KPIs) scanState(eng *engine.Engine, p *engine.Program, pointValueMinor float64) []int {
	buckets := map[int32]*LiabilityBucket{}
	var never, held, debt LiabilityBucket
	never.Month, held.Month, debt.Month = "never", "held", "debt"
	tierIdx := map[string]int{}
	for i := range p.Levels {
		tierIdx[p.Levels[i].Name] = i
	}
	tiers := make([]int, len(p.Levels))
	for mi := 0; mi < eng.Members(); mi++ {
		v := eng.View(int32(mi), true)
		k.Liability.Available += v.Available
		k.Liability.Pending += v.Pending
		k.Liability.Held += v.Held
		held.Points += v.Held
		if v.Available < 0 {
			debt.Points += v.Available
		}
		for _, l := range v.Lots {
			b := &never
			if l.ExpiresAtMS != 0 {
				m := monthIndex(l.ExpiresAtMS)
				if b = buckets[m]; b == nil {
					b = &LiabilityBucket{Month: monthName(m)}
					buckets[m] = b
				}
			}
			b.Points += l.Points
			if l.Pending {
				b.Pending += l.Points
			}
		}
		if ti, ok := tierIdx[v.Tier]; ok {
			tiers[ti]++
		}
	}
	k.addLiability(buckets, []LiabilityBucket{never, held, debt}, pointValueMinor)
	k.Liability.Debt = -debt.Points
	return tiers
}

// addLiability lists the expiry months in order, then the special buckets
// (never, held, debt) that hold points, and values them.
func (k *KPIs) addLiability(buckets map[int32]*LiabilityBucket, special []LiabilityBucket, pointValueMinor float64) {
	months := make([]int32, 0, len(buckets))
	for m := range buckets {
		months = append(months, m)
	}
	slices.Sort(months)
	for _, m := range months {
		k.Liability.ByExpiry = append(k.Liability.ByExpiry, *buckets[m])
	}
	for _, b := range special {
		if b.Points != 0 {
			k.Liability.ByExpiry = append(k.Liability.ByExpiry, b)
		}
	}
	for i := range k.Liability.ByExpiry {
		b := &k.Liability.ByExpiry[i]
		b.MoneyMinor = money(b.Points, pointValueMinor)
		k.Liability.Points += b.Points
	}
	k.Liability.MoneyMinor = money(k.Liability.Points, pointValueMinor)
}

// addTiers fills the tier counts and the observed tier moves (moves is the
// collector's from×to matrix).
func (k *KPIs) addTiers(p *engine.Program, tiers []int, moves []int64) {
	for i, n := range tiers {
		k.Tiers = append(k.Tiers, TierCount{Tier: p.Levels[i].Name, Members: n, Share: ratio(int64(n), int64(k.Members))})
	}
	nl := len(p.Levels)
	for i, n := range moves {
		if n == 0 {
			continue
		}
		from, to := i/nl, i%nl
		k.TierMoves = append(k.TierMoves, TierMove{From: p.Levels[from].Name, To: p.Levels[to].Name, Count: n})
		if to > from {
			k.Upgrades += n
		} else {
			k.Downgrades += n
		}
	}
}

// addMembers fills the member figures: activity windows, churn, spend.
func (k *KPIs) addMembers(c *Collector, clock int64, opt Options) {
	k.Active = make([]ActiveWindow, len(opt.ActiveDays))
	for i, d := range opt.ActiveDays {
		k.Active[i].Days = d
	}
	k.Churn.Days = opt.ChurnDays
	churnFrom := clock - int64(opt.ChurnDays)*dayMS
	spends := make([]int64, 0, len(c.members))
	var purchases int64
	for i := range c.members {
		m := &c.members[i]
		if m.lastAct != noTime {
			for j, d := range opt.ActiveDays {
				if m.lastAct > clock-int64(d)*dayMS {
					k.Active[j].Members++
				}
			}
		}
		if m.cohort == noMonth {
			continue
		}
		k.Buyers++
		spends = append(spends, m.spend)
		purchases += m.purchases
		k.Spend.TotalMinor += m.spend
	}
	for i := range k.Active {
		k.Active[i].Share = ratio(int64(k.Active[i].Members), int64(k.Members))
	}
	for i := range c.members {
		m := &c.members[i]
		if m.cohort == noMonth || m.firstBuy > churnFrom {
			continue
		}
		k.Churn.Base++
		if m.lastAct <= churnFrom {
			k.Churn.Churned++
		}
	}
	k.Churn.Rate = ratio(int64(k.Churn.Churned), int64(k.Churn.Base))
	k.addSpend(spends, purchases)
}

// addSpend fills the spend distribution from the buyers' lifetime spends.
func (k *KPIs) addSpend(spends []int64, purchases int64) {
	n := len(spends)
	if n == 0 {
		return
	}
	slices.Sort(spends)
	k.Spend.Buyers = n
	k.Spend.MeanMinor = float64(k.Spend.TotalMinor) / float64(n)
	k.Spend.MedianMinor = spends[(n-1)/2]
	k.Spend.P90Minor = spends[pct(n, 90)]
	k.Spend.P99Minor = spends[pct(n, 99)]
	k.Spend.MaxMinor = spends[n-1]
	k.Spend.MeanPurchases = float64(purchases) / float64(n)
}

// addRetention fills the retention by cohort and returns the active and new
// buyers per month the cohorts imply.
func (k *KPIs) addRetention(c *Collector) (activeByMonth, newByMonth map[int32]int64) {
	cohorts := make([]int32, 0, len(c.cohorts))
	for m := range c.cohorts {
		cohorts = append(cohorts, m)
	}
	slices.Sort(cohorts)
	activeByMonth = map[int32]int64{}
	newByMonth = map[int32]int64{}
	for _, m := range cohorts {
		row := c.cohorts[m]
		co := Cohort{Month: monthName(m), Size: row[0], Active: slices.Clone(row)}
		for off, n := range row {
			co.Retention = append(co.Retention, ratio(n, row[0]))
			activeByMonth[m+int32(off)] += n
		}
		newByMonth[m] += row[0]
		k.Retention = append(k.Retention, co)
	}
	return activeByMonth, newByMonth
}

// addMonthly fills the monthly flows over every month with flows or
// active buyers.
func (k *KPIs) addMonthly(c *Collector, activeByMonth, newByMonth map[int32]int64) {
	all := map[int32]bool{}
	for m := range c.months {
		all[m] = true
	}
	for m := range activeByMonth {
		all[m] = true
	}
	ms := make([]int32, 0, len(all))
	for m := range all {
		ms = append(ms, m)
	}
	slices.Sort(ms)
	for _, m := range ms {
		mf := MonthFlow{Month: monthName(m), Active: activeByMonth[m], NewBuyers: newByMonth[m]}
		if f := c.months[m]; f != nil {
			mf.Earned, mf.ClawedBack, mf.Redeemed, mf.Returned = f.earned, f.clawed, f.redeemed, f.returned
			mf.Breakage, mf.Adjusted = f.breakage, f.adjusted
		}
		k.Monthly = append(k.Monthly, mf)
	}
}

// pct is the index of the p-th percentile (nearest rank) in n sorted values.
func pct(n, p int) int {
	i := (n*p+99)/100 - 1
	return max(0, min(n-1, i))
}
