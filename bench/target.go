package bench

import (
	"context"
	"errors"
)

// Target applies batches of commands.
type Target interface {
	// Name is a short label for reports ("engine", "replay", "http", "postgres").
	Name() string
	// Submit applies one batch. lines are NDJSON command lines without their
	// newline; they stay valid (and unchanged) until Submit returns. It
	// appends exactly one result line per command to dst, each ending in
	// '\n', in the order of lines, and returns dst. An error means the batch
	// as a whole failed (transport, timeout, HTTP 5xx, …): no result lines
	// are counted and the commands are not acknowledged.
	Submit(ctx context.Context, lines [][]byte, dst []byte) ([]byte, error)
	// Close releases the target (stops processes it started).
	Close() error
}

// MemberBalance is the part of a member's state that --validate compares.
type MemberBalance struct {
	Member    string `json:"member"`
	Available int64  `json:"available"`
	Pending   int64  `json:"pending"`
	Held      int64  `json:"held"`
	Tier      string `json:"tier"`
}

// BalanceReader is implemented by targets whose balances --validate can read
// one member at a time (HTTP targets: GET /v1/members/{id}).
type BalanceReader interface {
	Balance(ctx context.Context, member string) (MemberBalance, bool, error)
}

// Processes is implemented by targets that run server processes (node,
// cluster); their CPU time and peak RSS go into the report.
type Processes interface {
	PIDs() []int
}

// ErrTransport is the error code a whole failed batch is counted under.
var ErrTransport = errors.New("transport")
