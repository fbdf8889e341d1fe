// Package api is Accrual's HTTP server (fasthttp): batches of commands,
// NDJSON streams, single-command conveniences, reads, metrics and API keys.
// It talks to the replicated state machine only through Backend, whose
// reads answer in the types of package api/wire; every error answer takes
// its code, status and default sentence from wire.ErrorCode.
//
// It is not the state machine: it decodes and validates commands, fills a
// missing `at`, checks keys and scopes, and hands valid commands to the
// Backend (the Raft node in `accrual serve`).
//
// Routes: the route table (routes.go) is every method and path the server
// answers; the router checks a request against it before any handler, and
// the OpenAPI 3.1 description served at GET /openapi.json (openapi.json,
// embedded) lists exactly its routes, which a test checks, together with
// the curl examples of docs/API.md.
//
// The change feed (GET /v1/changes, feed.go) is an NDJSON stream of the
// ledger after a cursor, held open for new entries, from a Backend that is
// also a FeedSource; Shutdown ends open feeds.
//
// Connections are bounded (Config): Concurrency caps open connections in
// all (503) and MaxConnsPerIP per address (429), both refused by fasthttp
// before any byte is read; HeaderTimeout cuts a client that does not
// finish its request line and headers (slowloris), ReadTimeout one that
// stalls its body, IdleTimeout an idle keep-alive connection. A request
// fasthttp cannot read is answered in the API's error format (408 timeout,
// 431 headers_too_large, 413 body_too_large, 400 invalid) by requestError.
package api
