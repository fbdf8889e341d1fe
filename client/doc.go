// Package client is a Go client of Accrual's HTTP API (see docs/API.md).
// It decodes answers into the server's own types (package api/wire) and
// errors by the same typed codes (wire.ErrorCode), and imports nothing
// else of the server.
//
// Command ids are idempotency keys: persist a command (with its id) before
// sending it and resend it unchanged after any error whose outcome is
// unknown (timeouts, not_leader, overloaded, a broken connection). The
// server answers a resent command with its first result and
// "duplicate": true, so a retry never applies a command twice.
package client
