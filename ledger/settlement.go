package ledger

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// PartnerFigures are a partner's settlement figures over a period.
// Net = Issued - ClawedBack - Redeemed + Returned: what the partner owes
// the program (positive) or is owed (negative) in points.
type PartnerFigures struct {
	Issued     int64 `json:"issued"`      // earn + reward entries crediting partner:<p>:issued
	ClawedBack int64 `json:"clawed_back"` // clawback entries debiting partner:<p>:issued
	Redeemed   int64 `json:"redeemed"`    // redeem + capture entries debiting partner:<p>:redeemed
	Returned   int64 `json:"returned"`    // cancel entries crediting partner:<p>:redeemed
	Net        int64 `json:"net"`
}

func (f *PartnerFigures) add(o PartnerFigures) {
	f.Issued += o.Issued
	f.ClawedBack += o.ClawedBack
	f.Redeemed += o.Redeemed
	f.Returned += o.Returned
	f.Net = f.Issued - f.ClawedBack - f.Redeemed + f.Returned
}

// PartnerDay is one UTC day of a partner's settlement.
type PartnerDay struct {
	Day     string `json:"day"`      // "2006-01-02"
	StartMS int64  `json:"start_ms"` // the day's 00:00 UTC
	PartnerFigures
}

// PartnerSettlement is one partner's part of a settlement report.
type PartnerSettlement struct {
	Partner string `json:"partner"`
	PartnerFigures
	Days []PartnerDay `json:"days"` // ascending, days without figures omitted
}

// SettlementReport covers the entries dated in [FromMS, ToMS).
type SettlementReport struct {
	FromMS, ToMS int64
	Partners     []PartnerSettlement // sorted by partner id
	// Breakage is the points expired to operator:breakage in the period
	// (net of any entries moving points back out of it).
	Breakage int64
	// BreakageTotal is the balance of operator:breakage as of AsOfSeq.
	BreakageTotal int64
	// Outstanding is the program's outstanding liability: the sum of all
	// member accounts as of AsOfSeq (the whole ledger, not the period).
	Outstanding int64
	AsOfSeq     uint64
}

// Settlement reports, per partner, the points issued, clawed back, redeemed
// and returned by cancellations over entries dated in [fromMS, toMS), with a
// daily (UTC) breakdown, plus program-wide breakage and outstanding
// liability. It reads only the blocks the day index names for the period.
func (l *Ledger) Settlement(fromMS, toMS int64) (SettlementReport, error) {
	rep := SettlementReport{FromMS: fromMS, ToMS: toMS}
	if toMS <= fromMS {
		return rep, fmt.Errorf("ledger: empty settlement period [%d, %d)", fromMS, toMS)
	}
	snap := l.db.NewSnapshot()
	defer snap.Close()
	if err := settlementBalances(snap, &rep); err != nil {
		return rep, err
	}
	figs := dayFigures{}
	if err := settlementFigures(snap, &rep, figs); err != nil {
		return rep, err
	}
	partners, err := l.settlementPartners(snap, figs)
	if err != nil {
		return rep, err
	}
	rep.Partners = partners
	return rep, nil
}

// settlementBalances fills the report's program-wide figures as of the
// last seq: member accounts sum to minus the partner and operator ones.
func settlementBalances(snap *pebble.Snapshot, rep *SettlementReport) error {
	m, _, err := readMeta(snap)
	if err != nil {
		return err
	}
	rep.AsOfSeq = m.LastSeq
	return scanBalances(snap, func(code uint64, bal int64) error {
		rep.Outstanding -= bal
		if code == acctCode(0, AccountOperatorBreakage) {
			rep.BreakageTotal = bal
		}
		return nil
	})
}

// partnerDay keys the figures of one partner (owner id) on one day.
type partnerDay struct {
	id  uint32
	day int64
}

type dayFigures map[partnerDay]*PartnerFigures

func (figs dayFigures) at(id uint32, day int64) *PartnerFigures {
	f := figs[partnerDay{id, day}]
	if f == nil {
		f = &PartnerFigures{}
		figs[partnerDay{id, day}] = f
	}
	return f
}

// settlementFigures reads the blocks the day index names for the report's
// period and sums their entries into figs per partner and day, and the
// breakage into rep.
func settlementFigures(snap *pebble.Snapshot, rep *SettlementReport, figs dayFigures) error {
	d0, d1 := dayOf(rep.FromMS), dayOf(rep.ToMS-1)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: dayKey(d0, 0), UpperBound: dayKey(d1, math.MaxUint64)})
	if err != nil {
		return err
	}
	defer it.Close()
	br, err := newBlockReader(snap)
	if err != nil {
		return err
	}
	defer br.close()
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != 17 {
			return fmt.Errorf("%w: day key %x", ErrCorrupt, k)
		}
		day := int64(binary.BigEndian.Uint64(k[1:]) ^ (1 << 63))
		seq := binary.BigEndian.Uint64(k[9:])
		if _, err := br.get(seq); err != nil {
			return err
		}
		if br.firstSeq != seq {
			return fmt.Errorf("%w: day key %x names no block", ErrCorrupt, k)
		}
		for i := range br.raws {
			e := &br.raws[i]
			if dayOf(e.AtMS) != day || e.AtMS < rep.FromMS || e.AtMS >= rep.ToMS {
				continue
			}
			rep.Breakage += figs.add(e, day)
		}
	}
	return it.Error()
}

// add counts an entry in its partner's figures of the day and returns what
// it moves into operator:breakage.
func (figs dayFigures) add(e *rawEntry, day int64) (breakage int64) {
	dk, ck := codeKind(e.Debit), codeKind(e.Credit)
	switch {
	case (e.Kind == KindEarn || e.Kind == KindReward) && ck == AccountPartnerIssued:
		figs.at(codeOwner(e.Credit), day).Issued += e.Points
	case e.Kind == KindClawback && dk == AccountPartnerIssued:
		figs.at(codeOwner(e.Debit), day).ClawedBack += e.Points
	case (e.Kind == KindRedeem || e.Kind == KindCapture) && dk == AccountPartnerRedeemed:
		figs.at(codeOwner(e.Debit), day).Redeemed += e.Points
	case e.Kind == KindCancel && ck == AccountPartnerRedeemed:
		figs.at(codeOwner(e.Credit), day).Returned += e.Points
	}
	if dk == AccountOperatorBreakage {
		breakage += e.Points
	}
	if ck == AccountOperatorBreakage {
		breakage -= e.Points
	}
	return breakage
}

// settlementPartners groups the day figures by partner: totals, and days
// ascending; partners sorted by name.
func (l *Ledger) settlementPartners(snap *pebble.Snapshot, figs dayFigures) ([]PartnerSettlement, error) {
	byPartner := map[uint32]*PartnerSettlement{}
	for k, f := range figs {
		ps := byPartner[k.id]
		if ps == nil {
			name, err := l.ownerName(snap, k.id)
			if err != nil {
				return nil, err
			}
			ps = &PartnerSettlement{Partner: name}
			byPartner[k.id] = ps
		}
		f.Net = f.Issued - f.ClawedBack - f.Redeemed + f.Returned
		ps.PartnerFigures.add(*f)
		start := k.day * dayMS
		ps.Days = append(ps.Days, PartnerDay{Day: time.UnixMilli(start).UTC().Format(time.DateOnly), StartMS: start, PartnerFigures: *f})
	}
	var partners []PartnerSettlement
	for _, ps := range byPartner {
		sort.Slice(ps.Days, func(i, j int) bool { return ps.Days[i].StartMS < ps.Days[j].StartMS })
		partners = append(partners, *ps)
	}
	sort.Slice(partners, func(i, j int) bool { return partners[i].Partner < partners[j].Partner })
	return partners, nil
}
