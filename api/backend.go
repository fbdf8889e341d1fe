package api

import (
	"context"
	"errors"

	"github.com/accrual/accrual/api/wire"
	"github.com/accrual/accrual/engine"
)

// Backend is what the server needs from the Raft node.
//
// The commands passed to Submit and Quote (and the byte slices inside them)
// belong to the server and are valid only until the call returns: a
// backend that keeps them (a Raft log entry) must encode or copy them first.
type Backend interface {
	// Submit proposes valid commands (missing `at` already filled) and
	// returns one NDJSON result line per command, in order, after
	// commit+apply. Errors: one with LeaderHTTPAddr() string (not the
	// leader), ErrOverloaded or one with Overloaded() bool, ErrDiskFull or
	// one with DiskFull() bool (nothing was proposed), ctx errors.
	Submit(ctx context.Context, cmds []engine.Command) ([]byte, error)
	// Member reads a member at a consistency level: "linearizable",
	// "leader" or "stale".
	Member(name string, consistency string) (view engine.MemberView, appliedIndex uint64, found bool, err error)
	// Quote answers a quote command on the current state (SPEC §9.1); it
	// never enters the log. The result is one JSON object.
	Quote(cmd *engine.Command) ([]byte, error)
	Program() *engine.Program
	Status() wire.Status // GET /v1/cluster
	Stats() wire.Stats   // GET /v1/stats; see NewStats
	// The reads below return ErrNotFound (or an error with NotFound() bool)
	// for an unknown member, command or partner, and ErrInvalidArgument for
	// a bad cursor or range.
	Statement(member string, cursor string, limit int) (wire.Statement, error)
	BalanceAt(member string, atMS int64) (wire.Balance, error)
	CommandEntries(id string) (wire.CommandEntries, error)
	Settlement(partner string, fromMS, toMS int64) (wire.Settlement, error)
	// Members is one page of all members with ids greater than after (""
	// from the first), in id byte order, as of one applied index (at the
	// consistency level, as Member); at most limit of them. It costs about
	// O(limit·log n), not O(n), for n members.
	Members(after string, limit int, consistency string) (wire.Members, error)
}

// NewMemberDump is a member view as a dump line (SPEC §8, §9.9).
func NewMemberDump(v *engine.MemberView) wire.MemberDump {
	return wire.MemberDump{Member: v.Member, Available: v.Available, Pending: v.Pending, Tier: v.Tier,
		Earned: v.Earned, Redeemed: v.Redeemed, Expired: v.Expired, Held: v.Held, Plan: v.Plan}
}

// NewStats is GET /v1/stats from an engine's totals and the log index
// they include.
func NewStats(t engine.Totals, appliedIndex uint64) wire.Stats {
	s := wire.Stats{Members: t.Members, Commands: t.Commands, Issued: t.Issued, Redeemed: t.Redeemed,
		Breakage: t.Breakage, Adjustments: t.Adjustments, Rewards: t.Rewards, Outstanding: t.Outstanding,
		AppliedIndex: appliedIndex}
	if earned := t.Issued + t.Rewards + t.Adjustments; earned > 0 {
		s.RedemptionRate = float64(t.Redeemed) / float64(earned)
		s.BreakageRate = float64(t.Breakage) / float64(earned)
	}
	return s
}

// WithRetail adds the engine's campaign budgets and reward stock (SPEC
// §10) to stats; call it with the engine the totals came from, under the
// same lock.
func WithRetail(s wire.Stats, e *engine.Engine) wire.Stats {
	for _, b := range e.Budgets() {
		s.Budgets = append(s.Budgets, wire.Budget{Campaign: b.Campaign, BudgetPoints: b.Budget, Spent: b.Spent, Left: b.Left})
	}
	for _, w := range e.Stock() {
		st := wire.Stock{Reward: w.Reward, Partner: w.Partner, Points: w.Points, Stock: w.Stock, Claimed: w.Claimed}
		if w.Left >= 0 {
			left := w.Left
			st.Left = &left
		}
		s.Catalogue = append(s.Catalogue, st)
	}
	return s
}

// DiskReporter is implemented by a Backend that watches the free space of
// its data directory (the Raft node does); GET /metrics then exports it.
type DiskReporter interface {
	// Disk returns the free bytes at the last check and whether writes are
	// refused for lack of space.
	Disk() (freeBytes uint64, writesRefused bool)
}

// ScrubReporter is implemented by a Backend whose node scrubs its tables
// in the background (raft/scrub.go); GET /metrics then exports the counts.
type ScrubReporter interface {
	// Scrub returns the full passes made, the tables found damaged and the
	// bytes read, since the node started.
	Scrub() (passes, damagedTables, bytes uint64)
}

// ClockReporter is implemented by a Backend with a cluster clock (the
// Raft node, raft/clock.go): a missing `at` is filled, and at_in_future
// bounded, from its time instead of Config.Now, and GET /metrics exports
// it.
type ClockReporter interface {
	// ClusterTime is the time to stamp, in Unix ms, and whether it may be
	// stamped (false: commands without `at` are refused,
	// clock_unsynchronized).
	ClusterTime() (nowMS int64, synchronized bool)
	Clock() wire.ClockStatus
}

// KafkaReporter is implemented by a Backend that consumes Kafka topics
// (the node with --kafka-topics does); GET /metrics then exports the
// offsets and the lag of every partition.
type KafkaReporter interface {
	Kafka() []wire.KafkaPartition
}

type sentinel string

func (s sentinel) Error() string { return string(s) }

var (
	// ErrOverloaded tells the server to answer 503 with Retry-After. A
	// backend error also counts as overloaded when it (or one it wraps) has
	// a method Overloaded() bool that returns true.
	ErrOverloaded error = sentinel("overloaded")
	// ErrDiskFull tells the server to answer 507 disk_full: the backend
	// refuses writes for lack of disk space. A backend error with a method
	// DiskFull() bool that returns true counts too, and its Error() (which
	// should name the directory and the free and needed bytes) is the
	// message.
	ErrDiskFull error = sentinel(wire.DiskFull.Sentence())
	// ErrNotFound makes a read answer 404 (also: NotFound() bool).
	ErrNotFound error = sentinel("not found")
	// ErrInvalidArgument makes a read answer 400 (also: InvalidArgument() bool).
	ErrInvalidArgument error = sentinel("invalid argument")
)

// errKind classifies a backend error into the HTTP answer it deserves.
type errKind uint8

const (
	errInternal errKind = iota
	errNotLeader
	errOverloaded
	errDiskFull
	errNotFoundKind
	errInvalidArg
	errTimeout
	errCanceled
	errNoClock
)

// classify returns the kind of a backend error and, for errNotLeader, the
// leader's HTTP address ("" when unknown).
func classify(err error) (errKind, string) {
	var nl interface{ LeaderHTTPAddr() string }
	if errors.As(err, &nl) {
		return errNotLeader, nl.LeaderHTTPAddr()
	}
	var ov interface{ Overloaded() bool }
	if errors.Is(err, ErrOverloaded) || (errors.As(err, &ov) && ov.Overloaded()) {
		return errOverloaded, ""
	}
	var df interface{ DiskFull() bool }
	if errors.Is(err, ErrDiskFull) || (errors.As(err, &df) && df.DiskFull()) {
		return errDiskFull, ""
	}
	var nf interface{ NotFound() bool }
	if errors.Is(err, ErrNotFound) || (errors.As(err, &nf) && nf.NotFound()) {
		return errNotFoundKind, ""
	}
	var ia interface{ InvalidArgument() bool }
	if errors.Is(err, ErrInvalidArgument) || (errors.As(err, &ia) && ia.InvalidArgument()) {
		return errInvalidArg, ""
	}
	if errors.Is(err, errClockUnsynchronized) {
		return errNoClock, ""
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errTimeout, ""
	}
	if errors.Is(err, context.Canceled) {
		return errCanceled, ""
	}
	return errInternal, ""
}
