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
	"claims":      engine.TypeClaim,
}

// route dispatches a request; it records the route label in *route. The
// route table (routes.go) decides first whether the path and method exist.
func (s *Server) route(ctx *fasthttp.RequestCtx, route *int) {
	var buf [6][]byte
	seg, ok := segments(ctx.URI().PathOriginal(), buf[:])
	if !ok || len(seg) == 0 {
		notFound(ctx)
		return
	}
	if known, allow := routeGate(seg, ctx.Method()); !known {
		notFound(ctx)
		return
	} else if allow != "" {
		methodNotAllowed(ctx, allow)
		return
	}
	switch string(seg[0]) {
	case "healthz":
		*route = rHealth
		s.healthz(ctx, seg)
	case "readyz":
		*route = rReady
		s.readyz(ctx, seg)
	case "metrics":
		*route = rMetrics
		s.metrics(ctx, seg)
	case "console":
		s.console(ctx, seg, route)
	case "openapi.json":
		*route = rOpenAPI
		s.openAPI(ctx)
	case "v1":
		s.routeV1(ctx, seg[1:], route)
	default:
		notFound(ctx)
	}
}

func (s *Server) healthz(ctx *fasthttp.RequestCtx, seg [][]byte) {
	if len(seg) != 1 {
		notFound(ctx)
		return
	}
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"status":"ok"}`)
}

// notReady is the error message of /v1 requests while /readyz answers 503.
const notReady = "the node is not ready: starting (loading its state, applying its log, waiting for a leader) or shutting down; retry"

func (s *Server) readyz(ctx *fasthttp.RequestCtx, seg [][]byte) {
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
}

func (s *Server) metrics(ctx *fasthttp.RequestCtx, seg [][]byte) {
	if len(seg) != 1 {
		notFound(ctx)
		return
	}
	if !ctx.IsGet() && !ctx.IsHead() {
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
}

// v1Route is a classified /v1 request. The route is classified first (for
// its label and the method check), and its handler runs after
// authentication.
type v1Route struct {
	label   int
	allow   string // "GET" or "POST": the method it answers to
	write   bool   // a write: readonly keys are refused (PUT counts too)
	params  uint8  // the query parameters a write takes (q*); GETs check their own
	handler func(p Principal)
}

func getRoute(label int, h func(p Principal)) v1Route {
	return v1Route{label: label, allow: "GET", handler: h}
}
func postRoute(label int, h func(p Principal)) v1Route {
	return v1Route{label: label, allow: "POST", handler: h}
}

// routeV1 dispatches /v1/<seg...>.
func (s *Server) routeV1(ctx *fasthttp.RequestCtx, seg [][]byte, route *int) {
	if len(seg) == 0 {
		notFound(ctx)
		return
	}
	r, ok := s.classifyV1(ctx, seg)
	if !ok {
		notFound(ctx)
		return
	}
	*route = r.label
	isGet := ctx.IsGet() || ctx.IsHead()
	write := ctx.IsPost() || r.write
	if r.allow == "POST" && !write || r.allow == "GET" && !isGet {
		methodNotAllowed(ctx, r.allow)
		return
	}
	p, ok := s.principal(ctx)
	if !ok {
		return
	}
	if write && p.Role == RoleReadonly {
		forbidden(ctx, "a readonly key may only GET")
		return
	}
	// A node that is not ready would answer reads from a state it has not
	// finished loading (stale reads, stats, its ledger); the cluster
	// routes stay open so an operator can see why. Writes need a ready
	// leader anyway (a follower names it).
	if !s.ready.Load() && !write && r.label != rCluster {
		writeError(ctx, wire.Unavailable, notReady)
		return
	}
	if write {
		// Unknown or repeated parameters are errors, as on GETs.
		if _, ok := s.query(ctx, r.params); !ok {
			return
		}
	}
	r.handler(p)
}

// classifyV1 finds the route of /v1/<seg...>; false: no such endpoint.
func (s *Server) classifyV1(ctx *fasthttp.RequestCtx, seg [][]byte) (v1Route, bool) {
	name := string(seg[0])
	switch {
	case len(seg) == 1 && (name == "commands" || name == "stream" || name == "quote" || convenience[name] != engine.TypeNone):
		return s.writeRoute(ctx, name), true
	case (name == "redemptions" || name == "holds") && len(seg) == 3:
		return s.actionRoute(ctx, name, seg[1], string(seg[2]))
	case name == "members" && len(seg) == 1:
		return getRoute(rMembers, func(p Principal) { s.getMembers(ctx, p) }), true
	case name == "changes" && len(seg) == 1:
		return getRoute(rChanges, func(p Principal) { s.getChanges(ctx, p) }), true
	case name == "members" && (len(seg) == 2 || len(seg) == 3):
		return s.memberRoute(ctx, seg)
	case name == "commands" && len(seg) == 2:
		return s.commandRoute(ctx, seg[1]), true
	case name == "partners" && len(seg) == 3 && string(seg[2]) == "settlement":
		return s.settlementRoute(ctx, seg[1]), true
	case name == "stats" || name == "program" || name == "cluster":
		return s.adminRoute(ctx, name, seg)
	}
	return v1Route{}, false
}

// writeRoute: POST /v1/commands, /v1/stream, /v1/quote, /v1/<convenience>.
func (s *Server) writeRoute(ctx *fasthttp.RequestCtx, name string) v1Route {
	switch name {
	case "commands":
		return postRoute(rCommands, func(p Principal) { s.postCommands(ctx, p) })
	case "stream":
		return postRoute(rStream, func(p Principal) { s.postStream(ctx, p) })
	case "quote":
		return postRoute(rQuote, func(p Principal) { s.postQuote(ctx, p) })
	}
	t := convenience[name]
	return postRoute(rConvenience, func(p Principal) { s.postSingle(ctx, p, t, nil) })
}

// actionRoute: POST /v1/redemptions/{id}/cancel, /v1/holds/{id}/capture,
// /v1/holds/{id}/release.
func (s *Server) actionRoute(ctx *fasthttp.RequestCtx, name string, idSeg []byte, action string) (v1Route, bool) {
	var t engine.CommandType
	switch {
	case name == "redemptions" && action == "cancel":
		t = engine.TypeCancelRedemption
	case name == "holds" && action == "capture":
		t = engine.TypeCapture
	case name == "holds" && action == "release":
		t = engine.TypeRelease
	default:
		return v1Route{}, false
	}
	return postRoute(rConvenience, func(p Principal) {
		orig, ok := unescape(idSeg)
		if !ok || !validID([]byte(orig)) {
			writeError(ctx, wire.Invalid, "the path names no valid command id")
			return
		}
		s.postSingle(ctx, p, t, []byte(orig))
	}), true
}

// memberRoute: GET /v1/members/{id}, …/statement, …/balance.
func (s *Server) memberRoute(ctx *fasthttp.RequestCtx, seg [][]byte) (v1Route, bool) {
	read := func(ctx *fasthttp.RequestCtx, p Principal, m string) { s.getMember(ctx, m) }
	label := rMember
	if len(seg) == 3 {
		switch string(seg[2]) {
		case "statement":
			read, label = s.getStatement, rStatement
		case "balance":
			read, label = func(ctx *fasthttp.RequestCtx, p Principal, m string) { s.getBalance(ctx, m) }, rBalance
		default:
			return v1Route{}, false
		}
	}
	return getRoute(label, func(p Principal) {
		m, ok := unescape(seg[1])
		if !ok || !validMember([]byte(m)) {
			writeError(ctx, wire.Invalid, "the path names no valid member id")
			return
		}
		read(ctx, p, m)
	}), true
}

// commandRoute: GET /v1/commands/{id}.
func (s *Server) commandRoute(ctx *fasthttp.RequestCtx, idSeg []byte) v1Route {
	return getRoute(rCommand, func(p Principal) {
		if p.Role == RolePartner {
			forbidden(ctx, "command entries need an operator or readonly key")
			return
		}
		id, ok := unescape(idSeg)
		if !ok || !validID([]byte(id)) {
			writeError(ctx, wire.Invalid, "the path names no valid command id")
			return
		}
		s.getCommand(ctx, id)
	})
}

// settlementRoute: GET /v1/partners/{id}/settlement.
func (s *Server) settlementRoute(ctx *fasthttp.RequestCtx, idSeg []byte) v1Route {
	return getRoute(rSettlement, func(p Principal) {
		pid, ok := unescape(idSeg)
		if !ok || !validPartner([]byte(pid)) {
			writeError(ctx, wire.Invalid, "the path names no valid partner id")
			return
		}
		if p.Role == RolePartner && p.Partner != pid {
			forbidden(ctx, "a partner key reads only its own settlement")
			return
		}
		s.getSettlement(ctx, pid)
	})
}

// adminRoute: /v1/stats[/kpis], GET and PUT /v1/program, GET /v1/cluster,
// GET /v1/cluster/state-hash and /v1/cluster/backup, POST /v1/cluster/<op>.
func (s *Server) adminRoute(ctx *fasthttp.RequestCtx, name string, seg [][]byte) (v1Route, bool) {
	switch {
	case name == "stats" && len(seg) == 1:
		return getRoute(rStats, s.operatorRead(ctx, "stats need an operator or readonly key",
			func() any { return s.b.Stats() })), true
	case name == "stats" && len(seg) == 2:
		return getRoute(rStats, s.statsSub(ctx, string(seg[1]))), true
	case name == "program" && len(seg) == 1 && ctx.IsPut():
		// PUT is a write: treated as POST for the method and scope checks.
		r := postRoute(rProgram, func(p Principal) { s.putProgram(ctx, p) })
		r.write, r.params = true, qAt
		return r, true
	case name == "program" && len(seg) == 1:
		return getRoute(rProgram, func(p Principal) { s.getProgram(ctx) }), true
	case name == "program" && len(seg) == 2 && string(seg[1]) == "state":
		return getRoute(rProgram, s.operatorRead(ctx, "the program's budgets and stock need an operator or readonly key",
			func() any {
				st := s.b.Stats()
				return wire.ProgramState{Budgets: nonNil(st.Budgets), Catalogue: nonNil(st.Catalogue), AppliedIndex: st.AppliedIndex}
			})), true
	case name == "cluster" && len(seg) == 1:
		return getRoute(rCluster, s.operatorRead(ctx, "cluster status needs an operator or readonly key",
			func() any { return s.b.Status() })), true
	case name == "cluster" && len(seg) == 2 && string(seg[1]) == "state-hash":
		return getRoute(rCluster, func(p Principal) { s.stateHash(ctx, p) }), true
	case name == "cluster" && len(seg) == 2 && string(seg[1]) == "backup":
		return getRoute(rCluster, func(p Principal) { s.getBackup(ctx, p) }), true
	case name == "cluster" && len(seg) == 2:
		op := string(seg[1])
		return postRoute(rCluster, func(p Principal) { s.clusterAdmin(ctx, p, op) }), true
	}
	return v1Route{}, false
}

// operatorRead answers read() as JSON to operator and readonly keys; a
// partner key is refused with refusal.
func (s *Server) operatorRead(ctx *fasthttp.RequestCtx, refusal string, read func() any) func(p Principal) {
	return func(p Principal) {
		if p.Role == RolePartner {
			forbidden(ctx, refusal)
			return
		}
		s.writeJSON(ctx, read())
	}
}

// nonNil makes an empty list answer [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
