package main

import (
	"context"
	"errors"

	"github.com/accrual/accrual/api"
	"github.com/accrual/accrual/api/wire"
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ingest"
	"github.com/accrual/accrual/insight"
	"github.com/accrual/accrual/ledger"
	"github.com/accrual/accrual/raft"
)

// nodeBackend serves the HTTP API from a Raft node and its ledger.
type nodeBackend struct {
	n     *raft.Node
	kpis  *insight.Live    // fed by the node's apply path (raft.Config.Observer)
	kafka *ingest.Consumer // nil: this node consumes no Kafka topics (servekafka.go)
}

var _ api.Backend = nodeBackend{}
var _ api.ClusterAdmin = nodeBackend{}
var _ api.KafkaReporter = nodeBackend{}

// notLeader carries the leader's HTTP address to the API layer.
type notLeader struct{ *raft.NotLeaderError }

func (e notLeader) LeaderHTTPAddr() string { return e.LeaderHTTP }

func mapNodeErr(err error) error {
	var nl *raft.NotLeaderError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &nl):
		return notLeader{nl}
	case errors.Is(err, raft.ErrOverloaded), errors.Is(err, raft.ErrLedgerBehind):
		return api.ErrOverloaded
	case errors.Is(err, ledger.ErrNotFound):
		return api.ErrNotFound
	}
	return err
}

// ClusterTime is the node's cluster time (raft/clock.go).
func (b nodeBackend) ClusterTime() (nowMS int64, ok bool) { return b.n.ClusterTime() }

func (b nodeBackend) Clock() wire.ClockStatus { return clockOf(b.n.Clock()) }

func (b nodeBackend) Submit(ctx context.Context, cmds []engine.Command) ([]byte, error) {
	out, err := b.n.Submit(ctx, cmds)
	return out, mapNodeErr(err)
}

func (b nodeBackend) Member(name, consistency string) (engine.MemberView, uint64, bool, error) {
	v, idx, ok, err := b.n.Member(name, consistencyOf(consistency))
	return v, idx, ok, mapNodeErr(err)
}

// Members pages over raft.Node.MemberPage (one apply-lock hold a page,
// O(limit·log n); see there).
func (b nodeBackend) Members(after string, limit int, consistency string) (wire.Members, error) {
	views, applied, more, err := b.n.MemberPage(context.Background(), after, limit, consistencyOf(consistency))
	if err != nil {
		return wire.Members{}, mapNodeErr(err)
	}
	page := wire.Members{Members: make([]wire.MemberDump, len(views)), AppliedIndex: applied}
	for i := range views {
		page.Members[i] = api.NewMemberDump(&views[i])
	}
	if more {
		page.Next = views[len(views)-1].Member
	}
	return page, nil
}

func consistencyOf(s string) raft.Consistency {
	switch s {
	case "leader":
		return raft.Leader
	case "stale":
		return raft.Stale
	}
	return raft.Linearizable
}

func (b nodeBackend) Quote(cmd *engine.Command) ([]byte, error) { return b.n.Quote(cmd), nil }
func (b nodeBackend) Program() *engine.Program                  { return b.n.Program() }
func (b nodeBackend) Status() wire.Status {
	s := statusOf(b.n.Status())
	s.Kafka = b.Kafka()
	return s
}

func (b nodeBackend) StateHashAt(ctx context.Context, at uint64) (hash, index uint64, err error) {
	return b.n.StateHashAt(ctx, at)
}

// Stats reads the totals, budgets and stock under one apply lock, so they
// agree with each other.
func (b nodeBackend) Stats() wire.Stats {
	var s wire.Stats
	b.n.WithEngine(func(e *engine.Engine) { s = api.WithRetail(api.NewStats(e.Totals(), b.n.AppliedIndex()), e) })
	return s
}

func (b nodeBackend) Statement(member, cursor string, limit int) (wire.Statement, error) {
	led, err := b.n.CurrentLedger(context.Background())
	if err != nil {
		return wire.Statement{}, mapNodeErr(err)
	}
	page, err := led.Statement(member, ledger.StatementQuery{Cursor: cursor, Limit: limit})
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return wire.Statement{}, api.ErrInvalidArgument
	}
	return statementOf(page), mapNodeErr(err)
}

func (b nodeBackend) BalanceAt(member string, atMS int64) (wire.Balance, error) {
	led, err := b.n.CurrentLedger(context.Background())
	if err != nil {
		return wire.Balance{}, mapNodeErr(err)
	}
	avail, pending, held, err := led.BalanceAt(member, atMS)
	if err != nil {
		return wire.Balance{}, mapNodeErr(err)
	}
	return balanceOf(member, atMS, avail, pending, held), nil
}

func (b nodeBackend) CommandEntries(id string) (wire.CommandEntries, error) {
	led, err := b.n.CurrentLedger(context.Background())
	if err != nil {
		return wire.CommandEntries{}, mapNodeErr(err)
	}
	es, err := led.CommandEntries(id)
	if err != nil {
		return wire.CommandEntries{}, mapNodeErr(err)
	}
	if len(es) == 0 {
		return wire.CommandEntries{}, api.ErrNotFound
	}
	return commandOf(id, es), nil
}

func (b nodeBackend) Settlement(partner string, fromMS, toMS int64) (wire.Settlement, error) {
	if b.n.Program().PartnerIndex(partner) < 0 {
		return wire.Settlement{}, api.ErrNotFound
	}
	led, err := b.n.CurrentLedger(context.Background())
	if err != nil {
		return wire.Settlement{}, mapNodeErr(err)
	}
	rep, err := led.Settlement(fromMS, toMS)
	if err != nil {
		return wire.Settlement{}, mapNodeErr(err)
	}
	ps := ledger.PartnerSettlement{Partner: partner}
	for _, p := range rep.Partners {
		if p.Partner == partner {
			ps = p
			break
		}
	}
	return settlementOf(ps, fromMS, toMS), nil
}

func (b nodeBackend) AddVoter(id, raftAddr, httpAddr string) error {
	return mapNodeErr(b.n.AddVoter(id, raftAddr, httpAddr))
}
func (b nodeBackend) RemoveServer(id string) error { return mapNodeErr(b.n.RemoveServer(id)) }
func (b nodeBackend) TransferLeadership() error    { return mapNodeErr(b.n.TransferLeadership()) }

var _ api.ProgramAdmin = nodeBackend{}

var _ api.DiskReporter = nodeBackend{}

// Disk feeds the disk gauges of GET /metrics from the node's disk guard.
func (b nodeBackend) Disk() (uint64, bool) {
	d := b.n.Disk()
	return d.FreeBytes, d.WritesRefused
}

var _ api.ScrubReporter = nodeBackend{}

// Scrub feeds the scrub counters of GET /metrics from the node's scrub.
func (b nodeBackend) Scrub() (passes, damagedTables, bytes uint64) {
	s := b.n.Scrub()
	return s.Passes, s.DamagedTables, s.Bytes
}

func (b nodeBackend) SetProgram(src []byte, atMS int64) error {
	return mapNodeErr(b.n.SetProgram(src, atMS))
}

var _ api.KPISource = nodeBackend{}

// KPIs serves GET /v1/stats/kpis (docs/INSIGHT.md).
func (b nodeBackend) KPIs() any {
	return b.kpis.KPIs(func(compute func(*engine.Engine) *insight.KPIs) *insight.KPIs {
		var k *insight.KPIs
		b.n.WithEngine(func(e *engine.Engine) { k = compute(e) })
		return k
	})
}

var _ api.LotsSource = nodeBackend{}

// MemberLots reads a member's lots under the apply lock: only for
// GET /v1/members/{id}?lots=true, since published views leave lots out.
func (b nodeBackend) MemberLots(name string) []engine.LotView {
	var lots []engine.LotView
	b.n.WithEngine(func(e *engine.Engine) {
		if v, ok := e.Member(name, true); ok {
			lots = v.Lots
		}
	})
	return lots
}

var _ api.BackupTaker = nodeBackend{}

// OpenBackup takes an online backup on the leader (raft/backup.go).
func (b nodeBackend) OpenBackup() (api.BackupStream, error) {
	bk, err := b.n.OpenBackup()
	if err != nil {
		return nil, mapNodeErr(err)
	}
	return nodeBackup{bk}, nil
}

type nodeBackup struct{ *raft.Backup }

func (b nodeBackup) BackupIndex() uint64 { return b.Index }
