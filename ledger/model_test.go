package ledger

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// model is a brute-force reference for the queries.
type model struct {
	entries []Entry
}

func (m *model) add(es []Entry) {
	for i := range es {
		e := es[i]
		e.Seq = uint64(len(m.entries) + 1)
		m.entries = append(m.entries, e)
	}
}

func touches(e *Entry, member string) bool {
	return (e.Debit.Kind.IsMember() && e.Debit.Owner == member) || (e.Credit.Kind.IsMember() && e.Credit.Owner == member)
}

func (m *model) statement(member string, from, to int64) []Entry {
	var out []Entry
	for i := len(m.entries) - 1; i >= 0; i-- {
		e := m.entries[i]
		if touches(&e, member) && e.AtMS >= from && e.AtMS < to {
			out = append(out, e)
		}
	}
	return out
}

func (m *model) balance(member string, keep func(e *Entry) bool) Balance {
	var b Balance
	for i := range m.entries {
		e := &m.entries[i]
		if !keep(e) {
			continue
		}
		if e.Debit.Kind.IsMember() && e.Debit.Owner == member {
			b.add(e.Debit.Kind, e.Points)
		}
		if e.Credit.Kind.IsMember() && e.Credit.Owner == member {
			b.add(e.Credit.Kind, -e.Points)
		}
	}
	return b
}

func (m *model) accounts() map[Account]int64 {
	out := map[Account]int64{}
	for _, e := range m.entries {
		out[e.Debit] += e.Points
		out[e.Credit] -= e.Points
	}
	return out
}

func (m *model) command(id string) []Entry {
	var out []Entry
	for _, e := range m.entries {
		if e.CommandID == id {
			out = append(out, e)
		}
	}
	return out
}

func (m *model) settlement(from, to int64) SettlementReport {
	rep := SettlementReport{FromMS: from, ToMS: to, AsOfSeq: uint64(len(m.entries))}
	type pd struct {
		p   string
		day int64
	}
	figs := map[pd]*PartnerFigures{}
	f := func(p string, day int64) *PartnerFigures {
		if figs[pd{p, day}] == nil {
			figs[pd{p, day}] = &PartnerFigures{}
		}
		return figs[pd{p, day}]
	}
	for _, e := range m.entries {
		if e.Debit.Kind.IsMember() {
			rep.Outstanding += e.Points
		}
		if e.Credit.Kind.IsMember() {
			rep.Outstanding -= e.Points
		}
		if e.Debit == OperatorBreakage {
			rep.BreakageTotal += e.Points
		}
		if e.Credit == OperatorBreakage {
			rep.BreakageTotal -= e.Points
		}
		if e.AtMS < from || e.AtMS >= to {
			continue
		}
		day := dayOf(e.AtMS)
		switch {
		case (e.Kind == KindEarn || e.Kind == KindReward) && e.Credit.Kind == AccountPartnerIssued:
			f(e.Credit.Owner, day).Issued += e.Points
		case e.Kind == KindClawback && e.Debit.Kind == AccountPartnerIssued:
			f(e.Debit.Owner, day).ClawedBack += e.Points
		case (e.Kind == KindRedeem || e.Kind == KindCapture) && e.Debit.Kind == AccountPartnerRedeemed:
			f(e.Debit.Owner, day).Redeemed += e.Points
		case e.Kind == KindCancel && e.Credit.Kind == AccountPartnerRedeemed:
			f(e.Credit.Owner, day).Returned += e.Points
		}
		if e.Debit == OperatorBreakage {
			rep.Breakage += e.Points
		}
		if e.Credit == OperatorBreakage {
			rep.Breakage -= e.Points
		}
	}
	byP := map[string]*PartnerSettlement{}
	for k, fg := range figs {
		if byP[k.p] == nil {
			byP[k.p] = &PartnerSettlement{Partner: k.p}
		}
		fg.Net = fg.Issued - fg.ClawedBack - fg.Redeemed + fg.Returned
		byP[k.p].PartnerFigures.add(*fg)
		byP[k.p].Days = append(byP[k.p].Days, PartnerDay{Day: time.UnixMilli(k.day * dayMS).UTC().Format(time.DateOnly), StartMS: k.day * dayMS, PartnerFigures: *fg})
	}
	for _, ps := range byP {
		sort.Slice(ps.Days, func(i, j int) bool { return ps.Days[i].StartMS < ps.Days[j].StartMS })
		rep.Partners = append(rep.Partners, *ps)
	}
	sort.Slice(rep.Partners, func(i, j int) bool { return rep.Partners[i].Partner < rep.Partners[j].Partner })
	return rep
}

// gen makes plausible entries: earnings, maturation, redemptions,
// cancellations, clawbacks, expiry, adjustments, holds, transfers, rewards.
type gen struct {
	r        *rand.Rand
	members  []string
	partners []string
	cmd      int
	clock    int64
}

func newGen(seed uint64, members, partners int) *gen {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), clock: 1_790_000_000_000}
	for i := range members {
		g.members = append(g.members, fmt.Sprintf("member-%06d", i))
	}
	for i := range partners {
		g.partners = append(g.partners, fmt.Sprintf("partner-%02d", i))
	}
	return g
}

// command returns the entries of one command (1-3 entries).
func (g *gen) command() []Entry {
	g.cmd++
	g.clock += int64(g.r.IntN(3_600_000))
	id := fmt.Sprintf("cmd-%010d", g.cmd)
	m := g.members[g.r.IntN(len(g.members))]
	p := g.partners[g.r.IntN(len(g.partners))]
	pts := int64(1 + g.r.IntN(5000))
	at := g.clock
	e := func(k Kind, d, c Account, pts int64, at int64) Entry {
		return Entry{AtMS: at, CommandID: id, Kind: k, Debit: d, Credit: c, Points: pts}
	}
	switch g.r.IntN(12) {
	case 0, 1, 2:
		return []Entry{e(KindEarn, MemberPending(m), PartnerIssued(p), pts, at)}
	case 3:
		// a maturation dated in the past, then an earning
		return []Entry{e(KindMature, MemberAvailable(m), MemberPending(m), pts, at-int64(g.r.IntN(20))*dayMS),
			e(KindEarn, MemberAvailable(m), PartnerIssued(p), pts+1, at)}
	case 4:
		return []Entry{e(KindRedeem, PartnerRedeemed(p), MemberAvailable(m), pts, at)}
	case 5:
		return []Entry{e(KindCancel, MemberAvailable(m), PartnerRedeemed(p), pts, at)}
	case 6:
		return []Entry{e(KindClawback, PartnerIssued(p), MemberPending(m), pts, at)}
	case 7:
		return []Entry{e(KindExpire, OperatorBreakage, MemberAvailable(m), pts, at-int64(g.r.IntN(5))*dayMS)}
	case 8:
		if g.r.IntN(2) == 0 {
			return []Entry{e(KindAdjust, MemberAvailable(m), OperatorAdjustments, pts, at)}
		}
		return []Entry{e(KindAdjust, OperatorAdjustments, MemberAvailable(m), pts, at)}
	case 9:
		p2 := pts + 1
		return []Entry{e(KindHold, MemberHeld(m), MemberAvailable(m), p2, at),
			e(KindCapture, PartnerRedeemed(p), MemberHeld(m), p2/2, at+1),
			e(KindRelease, MemberAvailable(m), MemberHeld(m), p2-p2/2, at+1)}
	case 10:
		to := g.members[g.r.IntN(len(g.members))]
		if to == m {
			return []Entry{e(KindReward, MemberAvailable(m), OperatorRewards, pts, at)}
		}
		return []Entry{e(KindTransfer, MemberAvailable(to), MemberAvailable(m), pts, at)}
	default:
		return []Entry{e(KindReward, MemberAvailable(m), PartnerIssued(p), pts, at)}
	}
}

func (g *gen) batch(n int) []Entry {
	var out []Entry
	for len(out) < n {
		out = append(out, g.command()...)
	}
	return out
}

func openMem(t testing.TB) *Ledger {
	t.Helper()
	l, err := Open("", Options{fs: vfs.NewMem(), CacheSize: 8 << 20, MemTableSize: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func mustAppend(t testing.TB, l *Ledger, pos uint64, es []Entry) {
	t.Helper()
	if err := l.Append(pos, es); err != nil {
		t.Fatal(err)
	}
}
