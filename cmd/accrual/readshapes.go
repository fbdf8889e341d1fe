package main

import (
	"time"

	"github.com/accrual/accrual/api/wire"
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
	"github.com/accrual/accrual/raft"
)

// The node's and the ledger's read results in the API's shapes (package
// wire). Each writes the bytes the node's own types did when the API sent
// them as they were (TestBackendShapesKeepBytes pins that).

func statusOf(st raft.Status) wire.Status {
	out := wire.Status{ID: st.ID, State: st.State, LeaderID: st.LeaderID, LeaderAddr: st.LeaderAddr,
		LeaderHTTP: st.LeaderHTTP, Term: st.Term, CommitIndex: st.CommitIndex, AppliedIndex: st.AppliedIndex,
		LastIndex: st.LastIndex, LedgerPosition: st.LedgerPosition, ClusterID: st.ClusterID,
		Disk:  wire.DiskStatus{FreeBytes: st.Disk.FreeBytes, ReserveBytes: st.Disk.ReserveBytes, WritesRefused: st.Disk.WritesRefused},
		Clock: clockOf(st.Clock), Queued: st.Queued,
		Scrub: wire.ScrubStatus{BytesPerS: st.Scrub.BytesPerS, Passes: st.Scrub.Passes,
			DamagedTables: st.Scrub.DamagedTables, Bytes: st.Scrub.Bytes}}
	if st.Servers != nil { // nil stays null on the wire
		out.Servers = make([]wire.Server, len(st.Servers))
		for i, sv := range st.Servers {
			out.Servers[i] = wire.Server{ID: sv.ID, RaftAddr: sv.RaftAddr, HTTPAddr: sv.HTTPAddr, Voter: sv.Voter}
		}
	}
	return out
}

func clockOf(c raft.ClockStatus) wire.ClockStatus {
	return wire.ClockStatus{OffsetMS: c.OffsetMS, Synchronized: c.Synchronized, ToleranceMS: c.ToleranceMS,
		Agreeing: c.Agreeing, Voters: c.Voters, EngineMS: c.EngineMS}
}

func statementOf(page ledger.StatementPage) wire.Statement {
	return wire.Statement{Entries: entriesOf(page.Entries), Next: page.Next}
}

func balanceOf(member string, atMS, available, pending, held int64) wire.Balance {
	return wire.Balance{Member: member, At: engine.FormatTime(atMS), Available: available, Pending: pending, Held: held}
}

func commandOf(id string, es []ledger.Entry) wire.CommandEntries {
	return wire.CommandEntries{ID: id, Entries: entriesOf(es)}
}

func settlementOf(p ledger.PartnerSettlement, fromMS, toMS int64) wire.Settlement {
	return wire.Settlement{From: engine.FormatTime(fromMS), Partner: partnerOf(p), To: engine.FormatTime(toMS)}
}

// entryTime is the form of ledger.Entry's MarshalJSON.
const entryTime = "2006-01-02T15:04:05.000Z"

func entriesOf(es []ledger.Entry) []wire.Entry {
	if es == nil {
		return nil
	}
	out := make([]wire.Entry, len(es))
	for i, e := range es {
		out[i] = wire.Entry{Seq: e.Seq, At: time.UnixMilli(e.AtMS).UTC().Format(entryTime), CommandID: e.CommandID,
			Kind: e.Kind.String(), Debit: e.Debit.String(), Credit: e.Credit.String(), Points: e.Points}
	}
	return out
}

func figuresOf(f ledger.PartnerFigures) wire.PartnerFigures {
	return wire.PartnerFigures{Issued: f.Issued, ClawedBack: f.ClawedBack, Redeemed: f.Redeemed, Returned: f.Returned, Net: f.Net}
}

func partnerOf(p ledger.PartnerSettlement) wire.PartnerSettlement {
	out := wire.PartnerSettlement{Partner: p.Partner, PartnerFigures: figuresOf(p.PartnerFigures)}
	if p.Days != nil {
		out.Days = make([]wire.PartnerDay, len(p.Days))
		for i, d := range p.Days {
			out.Days[i] = wire.PartnerDay{Day: d.Day, StartMS: d.StartMS, PartnerFigures: figuresOf(d.PartnerFigures)}
		}
	}
	return out
}
