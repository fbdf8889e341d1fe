package insight

import (
	"math"
	"time"

	"github.com/accrual/accrual/engine"
)

const (
	dayMS   = int64(24 * time.Hour / time.Millisecond)
	noTime  = math.MinInt64
	noMonth = int32(math.MinInt32)
)

// memberStats is what the collector keeps per member (by member id),
// widest fields first: 48 bytes, where the order of their meaning took 56.
type memberStats struct {
	firstBuy  int64 // effective time of the first accepted purchase
	lastAct   int64 // effective time of the last purchase or redemption; noTime before
	spend     int64 // lifetime spend, net of refunds (not below 0)
	purchases int64
	cohort    int32 // month index of the first accepted purchase; noMonth before
	lastMonth int32 // month index of the last activity counted in the cohort matrix
	tier      int16 // last tier seen in a result; -1 before
}

// PartnerFigures mirror ledger.PartnerFigures, from the observed entries.
type PartnerFigures struct {
	Partner    string `json:"partner"`
	Issued     int64  `json:"issued"`      // earn + reward entries crediting partner:<p>:issued
	ClawedBack int64  `json:"clawed_back"` // clawback entries debiting partner:<p>:issued
	Redeemed   int64  `json:"redeemed"`    // redeem + capture entries debiting partner:<p>:redeemed
	Returned   int64  `json:"returned"`    // cancel entries crediting partner:<p>:redeemed
	Net        int64  `json:"net"`         // issued − clawed_back − redeemed + returned
	Spend      int64  `json:"spend_minor"` // purchase amounts net of refunds, accepted commands
}

// flows are per-month point movements from entries.
type flows struct {
	earned, clawed, redeemed, returned, breakage, adjusted, rewarded int64
}

// Collector observes applied commands, their results and ledger entries.
// It is not safe for concurrent use: feed it where the engine is applied.
type Collector struct {
	prog    *engine.Program
	clockMS int64
	firstMS int64

	// members by id: ids of up to maxShortName bytes (all in practice)
	// in byShort, longer ones in byLong.
	byShort map[shortName]int32
	byLong  map[string]int32
	members []memberStats

	// partners are by the engine's partner index (entries name that); a
	// program change appends partners, so the list grows as entries name
	// them. newSpend is the spend of partners the collector's program did
	// not have, by id (Compute names every partner from the engine's
	// program in force).
	partners []PartnerFigures
	newSpend map[string]int64
	months   map[int32]*flows
	// cohort matrix: cohort month → active members per month offset
	cohorts map[int32][]int64
	// tier movement: from*levels+to → transitions
	moves []int64

	partial bool // started on a non-empty engine (Live.Reset)

	// commands = accepted + rejected + duplicates: ticks (the leader's
	// clock, or sent) and quotes (never in the log) advance or answer
	// nothing a KPI counts.
	commands, accepted, rejected, duplicates, quotes int64
	byType                                           [32]int64

	// month cache for monthOf
	mStart, mEnd int64
	mIdx         int32
}

// NewCollector returns a collector for a program, observing from an empty
// engine.
func NewCollector(p *engine.Program) *Collector {
	c := &Collector{prog: p, clockMS: noTime, firstMS: noTime, byShort: map[shortName]int32{},
		byLong:   map[string]int32{},
		partners: make([]PartnerFigures, len(p.Partners)), months: map[int32]*flows{},
		cohorts: map[int32][]int64{}, moves: make([]int64, len(p.Levels)*len(p.Levels)),
		mStart: 1, mEnd: 0}
	for i := range p.Partners {
		c.partners[i].Partner = p.Partners[i].ID
	}
	return c
}

// monthOf returns the UTC calendar month index (year*12 + month-1) of t.
func (c *Collector) monthOf(tMS int64) int32 {
	if tMS >= c.mStart && tMS < c.mEnd {
		return c.mIdx
	}
	tm := time.UnixMilli(tMS).UTC()
	y, m := tm.Year(), tm.Month()
	start := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	c.mStart, c.mEnd = start.UnixMilli(), start.AddDate(0, 1, 0).UnixMilli()
	c.mIdx = int32(y*12 + int(m) - 1)
	return c.mIdx
}

func monthIndex(tMS int64) int32 {
	tm := time.UnixMilli(tMS).UTC()
	return int32(tm.Year()*12 + int(tm.Month()) - 1)
}

func monthName(idx int32) string {
	return time.Date(int(idx/12), time.Month(idx%12+1), 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
}

// shortName is a member id of up to maxShortName bytes as a map key: the
// bytes, then the length in the last byte. Keys without pointers keep the
// map out of the GC's scan, cost no string per member, and a look-up
// compares the key in place instead of following a pointer to its bytes.
type shortName [24]byte

const maxShortName = len(shortName{}) - 1

// member returns the figures of a member id, adding it on first sight.
func (c *Collector) member(name []byte) *memberStats {
	if len(name) > maxShortName {
		i, ok := c.byLong[string(name)]
		if !ok {
			i = c.newMember()
			c.byLong[string(name)] = i
		}
		return &c.members[i]
	}
	var k shortName
	copy(k[:], name)
	k[maxShortName] = byte(len(name))
	i, ok := c.byShort[k]
	if !ok {
		i = c.newMember()
		c.byShort[k] = i
	}
	return &c.members[i]
}

func (c *Collector) newMember() int32 {
	c.members = append(c.members, memberStats{cohort: noMonth, lastMonth: noMonth, lastAct: noTime, tier: -1})
	return int32(len(c.members) - 1)
}

// Observe feeds one applied batch: the commands, their results (one per
// command, in order) and the entries Apply returned.
func (c *Collector) Observe(cmds []engine.Command, results []engine.Result, entries []engine.Entry) {
	for i := range cmds {
		c.ObserveCommand(&cmds[i], &results[i])
	}
	for i := range entries {
		c.ObserveEntry(&entries[i])
	}
}

// ObserveCommand feeds one applied command and its result, in log order.
func (c *Collector) ObserveCommand(cmd *engine.Command, r *engine.Result) {
	switch {
	case cmd.Invalid:
		c.commands++
		c.rejected++
		return
	case cmd.Type == engine.TypeQuote:
		c.quotes++
		return
	case cmd.Type == engine.TypeTick:
		c.advance(cmd)
		return
	}
	c.commands++
	switch {
	case r.Duplicate:
		c.duplicates++
		return
	case !r.OK():
		c.rejected++
		return
	}
	c.accepted++
	t := c.advance(cmd)
	if int(cmd.Type) < len(c.byType) {
		c.byType[cmd.Type]++
	}
	if len(cmd.Member) == 0 {
		return // cancel, capture, release: no member named
	}
	m := c.member(cmd.Member)
	switch cmd.Type {
	case engine.TypePurchase:
		mon := c.monthOf(t)
		if m.cohort == noMonth {
			m.cohort, m.firstBuy = mon, t
		}
		m.spend += cmd.Amount
		m.purchases++
		c.addSpend(cmd.Partner, cmd.Amount)
		c.activity(m, t, mon)
	case engine.TypeRefund:
		m.spend = max(0, m.spend-cmd.Amount)
		c.addSpend(cmd.Partner, -cmd.Amount)
	case engine.TypeRedeem, engine.TypeHold:
		c.activity(m, t, c.monthOf(t))
	}
	if r.Shape == 0 && int(r.Tier) < len(c.prog.Levels) { // member-shaped result
		if m.tier >= 0 && m.tier != int16(r.Tier) {
			c.moves[int(m.tier)*len(c.prog.Levels)+int(r.Tier)]++
		}
		m.tier = int16(r.Tier)
	}
}

// addSpend adds an accepted purchase's (or refund's, negative) amount to
// its partner's spend.
func (c *Collector) addSpend(partner []byte, amount int64) {
	if pi := c.prog.PartnerIndex(string(partner)); pi >= 0 {
		c.partners[pi].Spend += amount
		return
	}
	if c.newSpend == nil {
		c.newSpend = map[string]int64{}
	}
	c.newSpend[string(partner)] += amount // a partner added by a program change
}

// partner returns the figures of the engine's partner index ref, growing
// the list for partners a program change added.
func (c *Collector) partner(ref int32) *PartnerFigures {
	for int(ref) >= len(c.partners) {
		c.partners = append(c.partners, PartnerFigures{})
	}
	return &c.partners[ref]
}

// advance moves the collector's clock like the engine's (SPEC §1).
func (c *Collector) advance(cmd *engine.Command) int64 {
	t := c.clockMS
	if cmd.HasAt() && cmd.AtMS > t {
		t = cmd.AtMS
	}
	if t == noTime {
		t = 0
	}
	c.clockMS = t
	if c.firstMS == noTime {
		c.firstMS = t
	}
	return t
}

// activity records a purchase or redemption at t. A member enters the
// cohort matrix with its first purchase; activity before it (a redemption of
// adjusted points) counts for the active windows only.
func (c *Collector) activity(m *memberStats, t int64, mon int32) {
	m.lastAct = t
	if m.cohort == noMonth || mon == m.lastMonth {
		return
	}
	m.lastMonth = mon
	off := int(mon - m.cohort)
	if off < 0 {
		return
	}
	row := c.cohorts[m.cohort]
	for len(row) <= off {
		row = append(row, 0)
	}
	row[off]++
	c.cohorts[m.cohort] = row
}

// ObserveEntry feeds one ledger entry.
func (c *Collector) ObserveEntry(e *engine.Entry) {
	f := c.months[c.monthOf(e.AtMS)]
	if f == nil {
		f = &flows{}
		c.months[c.monthOf(e.AtMS)] = f
	}
	switch e.Kind {
	case engine.KindEarn, engine.KindReward:
		f.earned += e.Points
		if e.Kind == engine.KindReward && e.Credit.Kind == engine.AccountOperatorRewards {
			f.rewarded += e.Points
		}
	case engine.KindClawback:
		f.clawed += e.Points
	case engine.KindRedeem, engine.KindCapture:
		f.redeemed += e.Points
	case engine.KindCancel:
		f.returned += e.Points
	case engine.KindExpire:
		f.breakage += e.Points
	case engine.KindAdjust:
		if e.Credit.Kind == engine.AccountOperatorAdjustments {
			f.adjusted += e.Points
		} else {
			f.adjusted -= e.Points
		}
	}
	switch {
	case e.Credit.Kind == engine.AccountPartnerIssued:
		c.partner(e.Credit.Ref).Issued += e.Points
	case e.Credit.Kind == engine.AccountPartnerRedeemed:
		c.partner(e.Credit.Ref).Returned += e.Points
	}
	switch {
	case e.Debit.Kind == engine.AccountPartnerIssued:
		c.partner(e.Debit.Ref).ClawedBack += e.Points
	case e.Debit.Kind == engine.AccountPartnerRedeemed:
		c.partner(e.Debit.Ref).Redeemed += e.Points
	}
}
