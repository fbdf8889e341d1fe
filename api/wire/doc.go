// Package wire holds what Accrual's HTTP API sends: the answers of its
// reads and the table of its error codes. The server (api), its test
// backend (api/apitest), the node's backend (cmd/accrual) and the Go
// client (client) all use these types, so the shapes the API tests check
// are the shapes production sends and the client decodes.
//
// It imports only the standard library: a client importing it pulls in
// none of the server.
package wire
