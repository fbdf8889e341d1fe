package engine

import (
	"slices"
	"strconv"
	"strings"
)

// LotView is one lot that still holds points.
type LotView struct {
	Points      int64
	Pending     bool
	MatureAtMS  int64 // 0 once matured
	ExpiresAtMS int64 // 0: never by date
}

// MemberView is a member as of the engine clock (SPEC §8, §9.9): a balance
// query, which writes nothing.
type MemberView struct {
	Member    string
	Available int64
	Pending   int64
	Held      int64
	Tier      string
	Earned    int64
	Redeemed  int64
	Expired   int64
	Plan      string
	Lots      []LotView
}

// Member returns the view of a member at the engine clock.
func (e *Engine) Member(name string, withLots bool) (MemberView, bool) {
	mi := e.lookup([]byte(name))
	if mi < 0 {
		return MemberView{}, false
	}
	return e.memberView(mi, withLots), true
}

// View returns the view of member index mi (see Touched) at the clock.
func (e *Engine) View(mi int32, withLots bool) MemberView { return e.memberView(mi, withLots) }

func (e *Engine) memberView(mi int32, withLots bool) MemberView {
	v := e.view(mi, e.ClockMS())
	mv := MemberView{
		Member: e.nameOf(v), Available: v.available(), Pending: v.get(bPending), Held: v.held(),
		Tier: e.prog.Levels[e.tierOf(v)].Name, Earned: v.get(bEarned), Redeemed: v.get(bRedeemed), Expired: v.expiredPoints(),
	}
	if x := v.ext; x != nil && x.plan >= 0 && e.ClockMS() < x.planUntilMS {
		mv.Plan = e.prog.Plans[x.plan].ID
	}
	if withLots {
		for lots, i := v.lots(), int(v.liveFrom); i < len(lots); i++ {
			l := lots[i]
			if l.points == 0 {
				continue
			}
			lv := LotView{Points: l.points, Pending: l.pending()}
			if lv.Pending {
				lv.MatureAtMS = l.matureAtMS
			}
			if l.expiresAtMS != neverMS {
				lv.ExpiresAtMS = l.expiresAtMS
			}
			mv.Lots = append(mv.Lots, lv)
		}
	}
	return mv
}

// AppendDumpJSON appends a member view as one SPEC §8 dump line (no newline).
func AppendDumpJSON(dst []byte, v *MemberView) []byte {
	dst = append(dst, `{"member":`...)
	dst = appendJSONString(dst, []byte(v.Member))
	dst = append(dst, `,"available":`...)
	dst = strconv.AppendInt(dst, v.Available, 10)
	dst = append(dst, `,"pending":`...)
	dst = strconv.AppendInt(dst, v.Pending, 10)
	dst = append(dst, `,"tier":`...)
	dst = appendJSONString(dst, []byte(v.Tier))
	dst = append(dst, `,"earned":`...)
	dst = strconv.AppendInt(dst, v.Earned, 10)
	dst = append(dst, `,"redeemed":`...)
	dst = strconv.AppendInt(dst, v.Redeemed, 10)
	dst = append(dst, `,"expired":`...)
	dst = strconv.AppendInt(dst, v.Expired, 10)
	if v.Held != 0 {
		dst = append(dst, `,"held":`...)
		dst = strconv.AppendInt(dst, v.Held, 10)
	}
	if v.Plan != "" {
		dst = append(dst, `,"plan":`...)
		dst = appendJSONString(dst, []byte(v.Plan))
	}
	return append(dst, '}')
}

// Dump calls fn for every member, sorted by member id bytes, as of the clock.
func (e *Engine) Dump(fn func(v *MemberView) error) error {
	order := make([]int32, e.members.len())
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		return strings.Compare(e.nameOf(e.members.at(a)), e.nameOf(e.members.at(b)))
	})
	for _, mi := range order {
		v := e.memberView(mi, false)
		if err := fn(&v); err != nil {
			return err
		}
	}
	return nil
}

// Quote answers a quote command (SPEC §9.1) at the clock; it changes nothing.
func (e *Engine) Quote(c *Command) Result {
	if c.Invalid || c.Type != TypeQuote {
		return Result{ID: c.ID, HasID: true, Err: ErrInvalid}
	}
	return e.quote(c, e.effectiveTime(c))
}

// Totals are program-wide figures kept as running sums (no scan).
type Totals struct {
	Members     int
	Commands    int
	Issued      int64 // points issued by partners, net of clawbacks
	Redeemed    int64 // points redeemed at partners, net of cancellations
	Breakage    int64 // points expired
	Adjustments int64 // net operator adjustments
	Rewards     int64 // points of referrals, challenges and operator-funded actions
	Outstanding int64 // liability: every member balance (available + pending + held)
}

// Totals returns the program-wide figures.
func (e *Engine) Totals() Totals {
	t := Totals{Members: e.members.len(), Commands: e.res.made, Breakage: e.breakage,
		Adjustments: -e.adjustments, Rewards: -e.rewards}
	for k := range e.partnerIssued {
		t.Issued -= e.partnerIssued[k]
		t.Redeemed += e.partnerRedeemed[k]
	}
	t.Outstanding = t.Issued + t.Adjustments + t.Rewards - t.Redeemed - t.Breakage
	return t
}
