package api

import (
	"embed"
	"io/fs"
	"mime"
	"path"

	"github.com/accrual/accrual/api/wire"
	"github.com/valyala/fasthttp"
)

// KPISource is implemented by a Backend that computes loyalty KPIs
// (insight.Compute): GET /v1/stats/kpis answers KPIs() as JSON. Without it
// the route answers 501.
type KPISource interface {
	KPIs() any
}

// consoleFiles is the operator console: static HTML/JS/CSS, no data inside.
//
//go:embed console
var consoleFiles embed.FS

// console serves GET /console and /console/<file>. The page is public: it
// holds no data, and every data call it makes carries the operator's key.
func (s *Server) console(ctx *fasthttp.RequestCtx, seg [][]byte, route *int) {
	*route = rConsole
	if !ctx.IsGet() && !ctx.IsHead() {
		methodNotAllowed(ctx, "GET")
		return
	}
	name := "index.html"
	switch {
	case len(seg) == 1, len(seg) == 2 && len(seg[1]) == 0:
	case len(seg) == 2:
		name = string(seg[1])
	default:
		notFound(ctx)
		return
	}
	if !fs.ValidPath(name) || path.Base(name) != name {
		notFound(ctx)
		return
	}
	b, err := consoleFiles.ReadFile("console/" + name)
	if err != nil {
		notFound(ctx)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	ctx.SetContentType(ct)
	h := &ctx.Response.Header
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
	ctx.SetBody(b)
}

// statsSub classifies GET /v1/stats/<name>; the handler runs after
// authentication.
func (s *Server) statsSub(ctx *fasthttp.RequestCtx, name string) func(p Principal) {
	return func(p Principal) {
		if p.Role == RolePartner {
			forbidden(ctx, "stats need an operator or readonly key")
			return
		}
		if name != "kpis" {
			notFound(ctx)
			return
		}
		src, ok := s.b.(KPISource)
		if !ok {
			writeError(ctx, wire.NotImplemented, "this backend computes no KPIs")
			return
		}
		s.writeJSON(ctx, src.KPIs())
	}
}
