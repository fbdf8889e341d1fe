package apitest

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/accrual/accrual/api"
	"github.com/accrual/accrual/api/wire"
	"github.com/accrual/accrual/engine"
)

// The reads of Mem answer in the shapes the node's backend sends (package
// wire), from the entries Submit kept (New's keepEntries).

// Status answers as a one-node cluster whose only node leads.
func (m *Mem) Status() wire.Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return wire.Status{ID: "mem", State: "Leader", LeaderID: "mem", Term: 1, CommitIndex: m.applied,
		AppliedIndex: m.applied, LastIndex: m.applied, LedgerPosition: m.applied,
		Servers: []wire.Server{{ID: "mem", Voter: true}}}
}

func (m *Mem) Stats() wire.Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return api.WithRetail(api.NewStats(m.eng.Totals(), m.applied), m.eng)
}

// entry is ledger entry i as the reads answer it; seqs start at 1, as
// the ledger's do.
func (m *Mem) entry(i int) wire.Entry {
	e := m.ledger[i]
	return wire.Entry{Seq: uint64(i + 1), At: engine.FormatTime(e.AtMS), CommandID: e.CommandID,
		Kind: e.Kind.String(), Debit: accountName(e.Debit, m.owners[i][0]),
		Credit: accountName(e.Credit, m.owners[i][1]), Points: e.Points}
}

// accountName names an account as the ledger does ("member:M1:available").
func accountName(a engine.Account, owner string) string {
	switch a.Kind {
	case engine.AccountMemberPending:
		return "member:" + owner + ":pending"
	case engine.AccountMemberAvailable:
		return "member:" + owner + ":available"
	case engine.AccountMemberHeld:
		return "member:" + owner + ":held"
	case engine.AccountPartnerIssued:
		return "partner:" + owner + ":issued"
	case engine.AccountPartnerRedeemed:
		return "partner:" + owner + ":redeemed"
	case engine.AccountOperatorBreakage:
		return "operator:breakage"
	case engine.AccountOperatorAdjustments:
		return "operator:adjustments"
	}
	return "operator:rewards"
}

func isMemberAcct(k engine.AccountKind) bool {
	return k == engine.AccountMemberPending || k == engine.AccountMemberAvailable || k == engine.AccountMemberHeld
}

// Statement pages the member's entries oldest first; the cursor is the
// index of the page's first entry (the ledger's pages go newest first).
func (m *Mem) Statement(member string, cursor string, limit int) (wire.Statement, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.eng.Member(member, false); !ok {
		return wire.Statement{}, api.ErrNotFound
	}
	from := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 0 {
			return wire.Statement{}, api.ErrInvalidArgument
		}
		from = n
	}
	page := wire.Statement{Entries: []wire.Entry{}}
	for i := from; i < len(m.ledger); i++ {
		e := m.ledger[i]
		if !(isMemberAcct(e.Debit.Kind) && m.owners[i][0] == member || isMemberAcct(e.Credit.Kind) && m.owners[i][1] == member) {
			continue
		}
		if len(page.Entries) == limit {
			page.Next = strconv.Itoa(i)
			break
		}
		page.Entries = append(page.Entries, m.entry(i))
	}
	return page, nil
}

func (m *Mem) BalanceAt(member string, atMS int64) (wire.Balance, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.eng.Member(member, false); !ok {
		return wire.Balance{}, api.ErrNotFound
	}
	b := wire.Balance{Member: member, At: engine.FormatTime(atMS)}
	for i, e := range m.ledger {
		if e.AtMS > atMS {
			continue
		}
		if m.owners[i][0] == member {
			addBalance(&b, e.Debit.Kind, e.Points)
		}
		if m.owners[i][1] == member {
			addBalance(&b, e.Credit.Kind, -e.Points)
		}
	}
	return b, nil
}

func (m *Mem) CommandEntries(id string) (wire.CommandEntries, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	idx, ok := m.byCmd[id]
	if !ok {
		return wire.CommandEntries{}, api.ErrNotFound
	}
	out := wire.CommandEntries{ID: id, Entries: make([]wire.Entry, 0, len(idx))}
	for _, i := range idx {
		out.Entries = append(out.Entries, m.entry(i))
	}
	return out, nil
}

// Settlement sums the partner's entries dated in [fromMS, toMS), by UTC
// day as the ledger does.
func (m *Mem) Settlement(partner string, fromMS, toMS int64) (wire.Settlement, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ps := wire.PartnerSettlement{Partner: partner}
	for i, e := range m.ledger {
		if e.AtMS < fromMS || e.AtMS >= toMS {
			continue
		}
		var f wire.PartnerFigures
		if m.owners[i][1] == partner {
			addCredit(&f, e.Credit.Kind, e.Points)
		}
		if m.owners[i][0] == partner {
			addDebit(&f, e.Debit.Kind, e.Points)
		}
		if f != (wire.PartnerFigures{}) {
			addDay(&ps, e.AtMS, f)
		}
	}
	slices.SortFunc(ps.Days, func(a, b wire.PartnerDay) int { return cmp.Compare(a.StartMS, b.StartMS) })
	return wire.Settlement{From: engine.FormatTime(fromMS), Partner: ps, To: engine.FormatTime(toMS)}, nil
}

// addBalance adds a member-account entry side to a balance: debits count
// in, credits out, as Mem books them.
func addBalance(b *wire.Balance, k engine.AccountKind, points int64) {
	switch k {
	case engine.AccountMemberAvailable:
		b.Available += points
	case engine.AccountMemberPending:
		b.Pending += points
	case engine.AccountMemberHeld:
		b.Held += points
	}
}

// addCredit counts an entry crediting one of the partner's accounts.
func addCredit(f *wire.PartnerFigures, k engine.AccountKind, points int64) {
	switch k {
	case engine.AccountPartnerIssued:
		f.Issued += points
	case engine.AccountPartnerRedeemed:
		f.Returned += points
	}
	f.Net = f.Issued - f.ClawedBack - f.Redeemed + f.Returned
}

// addDebit counts an entry debiting one of the partner's accounts.
func addDebit(f *wire.PartnerFigures, k engine.AccountKind, points int64) {
	switch k {
	case engine.AccountPartnerIssued:
		f.ClawedBack += points
	case engine.AccountPartnerRedeemed:
		f.Redeemed += points
	}
	f.Net = f.Issued - f.ClawedBack - f.Redeemed + f.Returned
}

// addDay adds an entry's figures to the settlement and to its UTC day;
// Settlement sorts the days afterwards.
func addDay(ps *wire.PartnerSettlement, atMS int64, f wire.PartnerFigures) {
	sum := func(to *wire.PartnerFigures) {
		to.Issued += f.Issued
		to.ClawedBack += f.ClawedBack
		to.Redeemed += f.Redeemed
		to.Returned += f.Returned
		to.Net += f.Net
	}
	sum(&ps.PartnerFigures)
	day := time.UnixMilli(atMS).UTC().Truncate(24 * time.Hour)
	i := slices.IndexFunc(ps.Days, func(d wire.PartnerDay) bool { return d.StartMS == day.UnixMilli() })
	if i < 0 {
		i = len(ps.Days)
		ps.Days = append(ps.Days, wire.PartnerDay{Day: day.Format("2006-01-02"), StartMS: day.UnixMilli()})
	}
	sum(&ps.Days[i].PartnerFigures)
}

// Members pages through engine.Dump: O(n log n) a page, which a test
// backend can afford.
func (m *Mem) Members(after string, limit int, consistency string) (wire.Members, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return wire.Members{}, m.err
	}
	page := wire.Members{Members: []wire.MemberDump{}, AppliedIndex: m.applied}
	errFull := errors.New("page full")
	err := m.eng.Dump(func(v *engine.MemberView) error {
		if v.Member <= after {
			return nil
		}
		if len(page.Members) == limit {
			page.Next = page.Members[limit-1].Member
			return errFull
		}
		page.Members = append(page.Members, api.NewMemberDump(v))
		return nil
	})
	if err != nil && err != errFull {
		return wire.Members{}, err
	}
	return page, nil
}
