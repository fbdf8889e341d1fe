package api

import (
	"strings"
)

// Route is one HTTP route: a method and a path template whose {name}
// segments stand for any one path segment (the handler checks it).
type Route struct {
	Method string // GET (which answers HEAD too), POST or PUT
	Path   string
}

// routeTable is every route the server answers. The router checks each
// request against it first (routeGate): a path that no route matches is
// 404, a method that no route of the path has is 405 naming the ones it
// has, so a handler the table lacks cannot be reached. The OpenAPI
// description (openapi.json) lists exactly these routes, which
// TestOpenAPIDescribesEveryRoute checks; add a route to both.
var routeTable = []Route{
	{"POST", "/v1/commands"}, // the hot paths first: the gate tries routes in order
	{"POST", "/v1/stream"},
	{"POST", "/v1/quote"},
	{"POST", "/v1/purchases"},
	{"POST", "/v1/refunds"},
	{"POST", "/v1/redemptions"},
	{"POST", "/v1/redemptions/{id}/cancel"},
	{"POST", "/v1/adjustments"},
	{"POST", "/v1/memberships"},
	{"POST", "/v1/referrals"},
	{"POST", "/v1/actions"},
	{"POST", "/v1/transfers"},
	{"POST", "/v1/holds"},
	{"POST", "/v1/claims"},
	{"POST", "/v1/holds/{id}/capture"},
	{"POST", "/v1/holds/{id}/release"},
	{"GET", "/v1/members/{member}"},
	{"GET", "/v1/members/{member}/statement"},
	{"GET", "/v1/members/{member}/balance"},
	{"GET", "/v1/members"},
	{"GET", "/v1/changes"},
	{"GET", "/v1/commands/{id}"},
	{"GET", "/v1/partners/{partner}/settlement"},
	{"GET", "/v1/stats"},
	{"GET", "/v1/stats/kpis"},
	{"GET", "/v1/program"},
	{"PUT", "/v1/program"},
	{"GET", "/v1/program/state"},
	{"GET", "/v1/cluster"},
	{"GET", "/v1/cluster/state-hash"},
	{"GET", "/v1/cluster/backup"},
	{"POST", "/v1/cluster/join"},
	{"POST", "/v1/cluster/remove"},
	{"POST", "/v1/cluster/transfer-leadership"},
	{"GET", "/healthz"},
	{"GET", "/readyz"},
	{"GET", "/metrics"},
	{"GET", "/openapi.json"},
	{"GET", "/console"},
	{"GET", "/console/{file}"},
}

// Routes returns the route table (a copy), in the router's order.
func Routes() []Route { return append([]Route(nil), routeTable...) }

// gateRoute is a route with its template split into segments ("" for a
// {name} segment, which matches any one).
type gateRoute struct {
	method string
	segs   []string
}

var gateRoutes = splitRoutes(routeTable)

func splitRoutes(rs []Route) []gateRoute {
	out := make([]gateRoute, len(rs))
	for i, r := range rs {
		segs := strings.Split(strings.TrimPrefix(r.Path, "/"), "/")
		for j, s := range segs {
			if strings.HasPrefix(s, "{") {
				segs[j] = ""
			}
		}
		out[i] = gateRoute{method: r.Method, segs: segs}
	}
	return out
}

// routeGate matches a request's path segments and method against the
// table: known is false when no route has this path; allow is "" when one
// has this method too, else the methods the path has ("GET, PUT").
// It allocates only to build allow.
func routeGate(seg [][]byte, method []byte) (known bool, allow string) {
	if string(method) == "HEAD" {
		method = []byte("GET")
	}
	for i := range gateRoutes {
		r := &gateRoutes[i]
		if !r.matches(seg) {
			continue
		}
		if r.method == string(method) {
			return true, ""
		}
		known = true
	}
	if !known {
		return false, ""
	}
	for i := range gateRoutes {
		if r := &gateRoutes[i]; r.matches(seg) && !strings.Contains(allow, r.method) {
			if allow != "" {
				allow += ", "
			}
			allow += r.method
		}
	}
	return true, allow
}

func (r *gateRoute) matches(seg [][]byte) bool {
	if len(seg) != len(r.segs) {
		return false
	}
	for i, s := range r.segs {
		if s != "" && s != string(seg[i]) {
			return false
		}
	}
	return true
}
