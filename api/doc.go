// Package api is Accrual's HTTP server (fasthttp): batches of commands,
// NDJSON streams, single-command conveniences, reads, metrics and API keys.
// It talks to the replicated state machine only through Backend.
//
// It is not the state machine: it decodes and validates commands, fills a
// missing `at`, checks keys and scopes, and hands valid commands to the
// Backend (the Raft node in `accrual serve`).
package api
