package api

import (
	"net/url"

	"github.com/accrual/accrual/api/wire"
	"github.com/accrual/accrual/engine"
	"github.com/valyala/fasthttp"
)

// segments splits a raw (still escaped) path into at most len(dst)
// segments; ok is false when there are more.
func segments(path []byte, dst [][]byte) ([][]byte, bool) {
	out := dst[:0]
	if len(path) == 0 || path[0] != '/' {
		return out, false
	}
	path = path[1:]
	for {
		if len(out) == cap(dst) {
			return out, false
		}
		i := 0
		for i < len(path) && path[i] != '/' {
			i++
		}
		out = append(out, path[:i])
		if i == len(path) {
			return out, true
		}
		path = path[i+1:]
	}
}

// unescape decodes one path segment (%XX); "" on a bad escape.
func unescape(seg []byte) (string, bool) {
	for _, c := range seg {
		if c == '%' || c == '+' {
			s, err := url.PathUnescape(string(seg))
			return s, err == nil
		}
	}
	return string(seg), true
}

func methodNotAllowed(ctx *fasthttp.RequestCtx, allow string) {
	ctx.Response.Header.Set("Allow", allow)
	writeError(ctx, wire.MethodNotAllowed, "method not allowed; use "+allow)
}

func notFound(ctx *fasthttp.RequestCtx) {
	writeError(ctx, wire.NotFound, "no such endpoint")
}

// convenience routes: POST /v1/<name> → a command of this type.
var convenience = map[string]engine.CommandType{
	"purchases":   engine.TypePurchase,
	"refunds":     engine.TypeRefund,
	"redemptions": engine.TypeRedeem,
	"adjustments": engine.TypeAdjust,
	"memberships": engine.TypeMembership,
	"referrals":   engine.TypeReferral,
	"actions":     engine.TypeAction,
	"transfers":   engine.TypeTransfer,
	"holds":       engine.TypeHold,
}

// route dispatches a request; it records the route label in *route.
func (s *Server) route(ctx *fasthttp.RequestCtx, route *int) {
	var buf [6][]byte
	seg, ok := segments(ctx.URI().PathOriginal(), buf[:])
	if !ok || len(seg) == 0 {
		notFound(ctx)
		return
	}
	get := ctx.IsGet() || ctx.IsHead()
	post := ctx.IsPost()
	switch string(seg[0]) {
	case "healthz":
		*route = rHealth
		if len(seg) != 1 {
			notFound(ctx)
			return
		}
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"status":"ok"}`)
		return
	case "readyz":
		*route = rReady
		if len(seg) != 1 {
			notFound(ctx)
			return
		}
		ctx.SetContentType("application/json")
		if !s.ready.Load() {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
			ctx.SetBodyString(`{"status":"not_ready"}`)
			return
		}
		ctx.SetBodyString(`{"status":"ready"}`)
		return
	case "metrics":
		*route = rMetrics
		if len(seg) != 1 {
			notFound(ctx)
			return
		}
		if !get {
			methodNotAllowed(ctx, "GET")
			return
		}
		if !s.cfg.PublicMetrics {
			p, ok := s.principal(ctx)
			if !ok {
				return
			}
			if p.Role == RolePartner {
				forbidden(ctx, "metrics need an operator or readonly key")
				return
			}
		}
		s.m.handler(ctx)
		return
	case "console":
		s.console(ctx, seg, route)
		return
	case "v1":
	default:
		notFound(ctx)
		return
	}
	seg = seg[1:]
	if len(seg) == 0 {
		notFound(ctx)
		return
	}
	// Classify the route first (for the label and the method check), then
	// authenticate.
	var (
		handler func(p Principal)
		allow   = "GET"
	)
	name := string(seg[0])
	switch {
	case name == "commands" && len(seg) == 1:
		*route, allow = rCommands, "POST"
		handler = func(p Principal) { s.postCommands(ctx, p) }
	case name == "stream" && len(seg) == 1:
		*route, allow = rStream, "POST"
		handler = func(p Principal) { s.postStream(ctx, p) }
	case name == "quote" && len(seg) == 1:
		*route, allow = rQuote, "POST"
		handler = func(p Principal) { s.postQuote(ctx, p) }
	case convenience[name] != engine.TypeNone && len(seg) == 1:
		*route, allow = rConvenience, "POST"
		t := convenience[name]
		handler = func(p Principal) { s.postSingle(ctx, p, t, nil) }
	case (name == "redemptions" || name == "holds") && len(seg) == 3:
		action := string(seg[2])
		var t engine.CommandType
		switch {
		case name == "redemptions" && action == "cancel":
			t = engine.TypeCancelRedemption
		case name == "holds" && action == "capture":
			t = engine.TypeCapture
		case name == "holds" && action == "release":
			t = engine.TypeRelease
		default:
			notFound(ctx)
			return
		}
		*route, allow = rConvenience, "POST"
		handler = func(p Principal) {
			orig, ok := unescape(seg[1])
			if !ok || !validID([]byte(orig)) {
				writeError(ctx, wire.Invalid, "the path names no valid command id")
				return
			}
			s.postSingle(ctx, p, t, []byte(orig))
		}
	case name == "members" && (len(seg) == 2 || len(seg) == 3):
		sub := ""
		if len(seg) == 3 {
			sub = string(seg[2])
		}
		switch sub {
		case "":
			*route = rMember
		case "statement":
			*route = rStatement
		case "balance":
			*route = rBalance
		default:
			notFound(ctx)
			return
		}
		r := *route
		handler = func(p Principal) {
			m, ok := unescape(seg[1])
			if !ok || !validMember([]byte(m)) {
				writeError(ctx, wire.Invalid, "the path names no valid member id")
				return
			}
			switch r {
			case rMember:
				s.getMember(ctx, m)
			case rStatement:
				s.getStatement(ctx, m)
			default:
				s.getBalance(ctx, m)
			}
		}
	case name == "commands" && len(seg) == 2:
		*route = rCommand
		handler = func(p Principal) {
			if p.Role == RolePartner {
				forbidden(ctx, "command entries need an operator or readonly key")
				return
			}
			id, ok := unescape(seg[1])
			if !ok || !validID([]byte(id)) {
				writeError(ctx, wire.Invalid, "the path names no valid command id")
				return
			}
			s.getCommand(ctx, id)
		}
	case name == "partners" && len(seg) == 3 && string(seg[2]) == "settlement":
		*route = rSettlement
		handler = func(p Principal) {
			pid, ok := unescape(seg[1])
			if !ok || !validPartner([]byte(pid)) {
				writeError(ctx, wire.Invalid, "the path names no valid partner id")
				return
			}
			if p.Role == RolePartner && p.Partner != pid {
				forbidden(ctx, "a partner key reads only its own settlement")
				return
			}
			s.getSettlement(ctx, pid)
		}
	case name == "stats" && len(seg) == 1:
		*route = rStats
		handler = func(p Principal) {
			if p.Role == RolePartner {
				forbidden(ctx, "stats need an operator or readonly key")
				return
			}
			s.writeJSON(ctx, s.b.Stats())
		}
	case name == "program" && len(seg) == 1 && ctx.IsPut():
		// PUT is a write: treated as POST for the method and scope checks.
		*route, allow, post = rProgram, "POST", true
		handler = func(p Principal) { s.putProgram(ctx, p) }
	case name == "stats" && len(seg) == 2:
		*route, handler = rStats, s.statsSub(ctx, string(seg[1]))
	case name == "program" && len(seg) == 1:
		*route = rProgram
		handler = func(p Principal) { s.getProgram(ctx) }
	case name == "cluster" && len(seg) == 1:
		*route = rCluster
		handler = func(p Principal) {
			if p.Role == RolePartner {
				forbidden(ctx, "cluster status needs an operator or readonly key")
				return
			}
			s.writeJSON(ctx, s.b.Status())
		}
	case name == "cluster" && len(seg) == 2 && string(seg[1]) == "state-hash":
		*route = rCluster
		handler = func(p Principal) { s.stateHash(ctx, p) }
	case name == "cluster" && len(seg) == 2:
		*route, allow = rCluster, "POST"
		op := string(seg[1])
		handler = func(p Principal) { s.clusterAdmin(ctx, p, op) }
	default:
		notFound(ctx)
		return
	}
	if allow == "POST" && !post || allow == "GET" && !get {
		methodNotAllowed(ctx, allow)
		return
	}
	p, ok := s.principal(ctx)
	if !ok {
		return
	}
	if post && p.Role == RoleReadonly {
		forbidden(ctx, "a readonly key may only GET")
		return
	}
	handler(p)
}
