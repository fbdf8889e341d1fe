package engine

import (
	"math"
	"math/big"
	"math/bits"
)

// Purchase arithmetic (SPEC §5 purchase steps 1–6) and the bonus lots a
// purchase can bring: rewards and challenges (with §10.3's collections).

// mulDiv returns floor(a×b×c×d×f / (g×h)) for non-negative inputs, exactly.
func mulDivFloor(nums [5]int64, den1, den2 int64) int64 {
	hi, lo := uint64(0), uint64(1)
	for _, n := range nums {
		h1, l1 := bits.Mul64(lo, uint64(n))
		h2, _ := bits.Mul64(hi, uint64(n))
		if h2 != 0 || hi*uint64(n) > math.MaxUint64-h1 {
			return mulDivBig(nums, den1, den2)
		}
		hi, lo = hi*uint64(n)+h1, l1
	}
	if hi >= uint64(den1) {
		return mulDivBig(nums, den1, den2)
	}
	q, _ := bits.Div64(hi, lo, uint64(den1))
	return int64(min(q/uint64(den2), math.MaxInt64))
}

func mulDivBig(nums [5]int64, den1, den2 int64) int64 {
	x := big.NewInt(1)
	for _, n := range nums {
		x.Mul(x, big.NewInt(n))
	}
	x.Quo(x, new(big.Int).Mul(big.NewInt(den1), big.NewInt(den2)))
	if !x.IsInt64() {
		return math.MaxInt64
	}
	return x.Int64()
}

// earn computes SPEC §5 purchase steps 1–6, with §10's budgets, offers
// and daily cap, for member m (brought to t) and returns the total of the
// purchase's own lot, and the tier used. It changes nothing: what the
// purchase would spend and use stays in e.buy for commitRetail.
func (e *Engine) earn(m *member, partner int32, amount int64, category []byte, t int64) (int64, uint8, bool) {
	p := e.prog
	tier := e.tierOf(m)
	rate := p.rateFor(partner, category)
	cBP, giverC, giverO := e.bonusMultiplier(m, partner, amount, category, tier, t)
	planBP := int64(10000)
	if m.ext != nil && m.ext.plan >= 0 && t < m.ext.planUntilMS {
		planBP = p.Plans[m.ext.plan].MultiplierBP
	}
	// base = floor(X × 10000 / D) and E = floor(X × C / D) − base (SPEC
	// §10.1 step 3), so base + E is §5's points with one floor at the end.
	x := [5]int64{amount, rate.Points, p.Levels[tier].MultiplierBP, planBP, 10000}
	base := mulDivFloor(x, rate.Per, 1_000_000_000_000)
	x[4] = cBP
	full := mulDivFloor(x, rate.Per, 1_000_000_000_000)
	if base > bound || full > bound {
		return bound + 1, tier, false
	}
	total := satAdd(base, e.contributions(full-base, giverC, giverO))
	if !m.firstDone() {
		total = satAdd(total, p.WelcomeBonus)
	}
	if p.CapPerPurchase > 0 {
		total = min(total, p.CapPerPurchase)
	}
	if p.CapPerMemberMonth > 0 {
		total = min(total, max(0, p.CapPerMemberMonth-m.earnedThisMonth(t)))
	}
	if p.CapPerMemberDay > 0 {
		_, today := m.today(t)
		total = min(total, max(0, p.CapPerMemberDay-today))
	}
	ok := total <= bound
	return max(total, 0), tier, ok
}

func containsI32(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func containsStr(s []string, v []byte) bool {
	for _, x := range s {
		if x == string(v) {
			return true
		}
	}
	return false
}

func (e *Engine) maxChallengeBonus() int64 {
	var s int64
	for i := range e.prog.Challenges {
		s += e.prog.Challenges[i].BonusPoints
		if s > bound {
			return bound
		}
	}
	return s
}

func (e *Engine) lotAcct(mi int32, matureAt, t int64) Account {
	if matureAt <= t {
		return memberAcct(AccountMemberAvailable, mi)
	}
	return memberAcct(AccountMemberPending, mi)
}

// reward adds a bonus lot funded by the operator's rewards account.
func (e *Engine) reward(m *member, mi int32, points, matureAt, expiresAt, t int64) {
	if points <= 0 {
		return
	}
	e.addLot(m, mi, points, matureAt, expiresAt, t)
	e.record(KindReward, t, e.lotAcct(mi, matureAt, t), rewardsAcct, points)
	m.add(bEarned, points)
	e.rewards -= points
}

func (e *Engine) challenges(m *member, mi, pi int32, amount int64, category []byte, expiresAt, t int64) {
	chs := e.prog.Challenges
	for k := range chs {
		ch := &chs[k]
		if t < ch.FromMS || t >= ch.ToMS || amount < ch.MinAmount {
			continue
		}
		x := e.ext(m)
		if len(x.challenges) < len(chs) {
			x.challenges = append(x.challenges, make([]challengeProgress, len(chs)-len(x.challenges))...)
		}
		pr := &x.challenges[k]
		pr.purchases++
		if int64(len(pr.partners)) < ch.DistinctPartners && !containsI32(pr.partners, pi) {
			pr.partners = append(pr.partners, pi)
		}
		if int64(len(pr.categories)) < ch.DistinctCategories && len(category) > 0 && !containsStr(pr.categories, category) {
			pr.categories = append(pr.categories, e.names.str(category))
		}
		if !pr.done && pr.purchases >= ch.Purchases && int64(len(pr.partners)) >= ch.DistinctPartners &&
			int64(len(pr.categories)) >= ch.DistinctCategories {
			pr.done = true
			e.reward(m, mi, ch.BonusPoints, t, expiresAt, t)
		}
	}
}
