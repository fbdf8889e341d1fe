package api

import (
	"errors"
	"time"

	"github.com/accrual/accrual/api/wire"
	"github.com/accrual/accrual/engine"
	"github.com/valyala/fasthttp"
)

// ProgramAdmin is implemented by a Backend that can change the program's
// rules through the log (the Raft node does); PUT /v1/program answers 501
// otherwise.
type ProgramAdmin interface {
	// SetProgram validates src (YAML or JSON), proposes it, and returns once
	// it is scheduled to take effect at atMS on every replica.
	SetProgram(src []byte, atMS int64) error
}

// putProgram serves PUT /v1/program[?at=RFC3339], operator keys only. The
// body is the whole new program. It is validated before it is proposed
// (an invalid or incompatible program answers 400 naming the field) and
// takes effect for commands whose effective time is at or after `at`
// (default: now, by the leader's clock).
func (s *Server) putProgram(ctx *fasthttp.RequestCtx, p Principal) {
	if p.Role != RoleOperator {
		forbidden(ctx, "changing the program needs an operator key")
		return
	}
	admin, ok := s.b.(ProgramAdmin)
	if !ok {
		writeError(ctx, wire.NotImplemented, "this backend cannot change its program")
		return
	}
	now := s.clock()
	atMS := now.ms
	if v := ctx.QueryArgs().Peek("at"); len(v) == 0 && !now.ok {
		ctx.Response.Header.Set("Retry-After", "1")
		writeCode(ctx, wire.ClockUnsynchronized)
		return
	} else if len(v) > 0 {
		t, ok := engine.ParseTime(string(v))
		if !ok {
			writeError(ctx, wire.Invalid, "at must be an RFC 3339 timestamp")
			return
		}
		atMS = t
	}
	src := append([]byte(nil), ctx.PostBody()...)
	if err := admin.SetProgram(src, atMS); err != nil {
		var pe *engine.ProgramError
		kind, leader := classify(err)
		switch {
		case errors.As(err, &pe):
			writeError(ctx, wire.InvalidProgram, pe.Error())
		case kind == errNotLeader:
			writeErrorLeader(ctx, wire.NotLeader, wire.NotLeader.Sentence(), leader)
		case kind == errDiskFull:
			writeError(ctx, wire.DiskFull, err.Error())
		default:
			writeError(ctx, wire.Unavailable, err.Error())
		}
		return
	}
	s.writeJSON(ctx, map[string]any{"status": "scheduled", "effective_at": time.UnixMilli(atMS).UTC().Format(time.RFC3339Nano)})
}
