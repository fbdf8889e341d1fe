package api

import (
	_ "embed"

	"github.com/valyala/fasthttp"
)

// openAPIDoc is the OpenAPI 3.1 description of this API, kept by hand
// next to the route table it must match (see routeTable).
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the OpenAPI 3.1 description served at GET /openapi.json.
func OpenAPI() []byte { return append([]byte(nil), openAPIDoc...) }

// openAPI is GET /openapi.json: public, as a partner needs it before it
// has a key.
func (s *Server) openAPI(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.SetBody(openAPIDoc)
}
