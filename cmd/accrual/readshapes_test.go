package main

import (
	"encoding/json"
	"testing"

	"github.com/accrual/accrual/api"
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
	"github.com/accrual/accrual/raft"
)

// TestBackendShapesKeepBytes: the typed answers encode to the bytes the
// backend sent before, when it handed the API the node's and the ledger's
// own values (or maps of them).
func TestBackendShapesKeepBytes(t *testing.T) {
	same := func(name string, before, after any) {
		t.Helper()
		b, err := json.Marshal(before)
		if err != nil {
			t.Fatal(err)
		}
		a, err := json.Marshal(after)
		if err != nil {
			t.Fatal(err)
		}
		if string(a) != string(b) {
			t.Errorf("%s:\n got %s\nwant %s", name, a, b)
		}
	}
	st := raft.Status{ID: "n1", State: "Leader", LeaderID: "n1", LeaderAddr: "127.0.0.1:7001", LeaderHTTP: "127.0.0.1:8081",
		Term: 3, CommitIndex: 9, AppliedIndex: 8, LastIndex: 9, LedgerPosition: 7, Queued: 2,
		Disk:  raft.DiskStatus{FreeBytes: 1 << 30, ReserveBytes: 1 << 20, WritesRefused: true},
		Scrub: raft.ScrubStatus{BytesPerS: 4 << 20, Passes: 2, DamagedTables: 1, Bytes: 1 << 25}}
	same("status, no servers", st, statusOf(st))
	st.ClusterID = "c-1"
	st.Servers = []raft.Server{{ID: "n1", RaftAddr: "a", HTTPAddr: "h", Voter: true}, {ID: "n2", RaftAddr: "b"}}
	same("status", st, statusOf(st))

	es := []ledger.Entry{
		{Seq: 1, AtMS: 1780000000123, CommandID: "p1", Kind: ledger.KindEarn,
			Debit: ledger.Account{Kind: ledger.AccountMemberPending, Owner: "M1"}, Credit: ledger.Account{Kind: ledger.AccountPartnerIssued, Owner: "shop"}, Points: 100},
		{Seq: 2, AtMS: 0, CommandID: "x\"y", Kind: ledger.KindExpire,
			Debit: ledger.Account{Kind: ledger.AccountOperatorBreakage}, Credit: ledger.Account{Kind: ledger.AccountMemberAvailable, Owner: "M1"}, Points: 5},
	}
	for _, page := range []ledger.StatementPage{{Entries: es, Next: "s1"}, {Entries: []ledger.Entry{}}, {}} {
		same("statement", page, statementOf(page))
	}
	same("balance", map[string]any{"member": "M1", "at": engine.FormatTime(1780000000000), "available": 1, "pending": 2, "held": 3},
		balanceOf("M1", 1780000000000, 1, 2, 3))
	same("command", map[string]any{"id": "p1", "entries": es}, commandOf("p1", es))

	fig := ledger.PartnerFigures{Issued: 10, ClawedBack: 1, Redeemed: 4, Returned: 2, Net: 7}
	for _, ps := range []ledger.PartnerSettlement{{Partner: "shop"},
		{Partner: "shop", PartnerFigures: fig, Days: []ledger.PartnerDay{{Day: "2026-06-01", StartMS: 1780272000000, PartnerFigures: fig}}}} {
		same("settlement", map[string]any{"partner": ps, "from": engine.FormatTime(1), "to": engine.FormatTime(2)}, settlementOf(ps, 1, 2))
	}

	stats, _ := json.Marshal(api.NewStats(engine.Totals{Members: 2, Commands: 5, Issued: 100, Redeemed: 20, Breakage: 10,
		Adjustments: -50, Rewards: 0, Outstanding: 20}, 7))
	const want = `{"members":2,"commands":5,"issued":100,"redeemed":20,"breakage":10,"adjustments":-50,"rewards":0,` +
		`"outstanding_liability":20,"redemption_rate":0.4,"breakage_rate":0.2,"applied_index":7}`
	if string(stats) != want {
		t.Errorf("stats:\n got %s\nwant %s", stats, want)
	}
}
