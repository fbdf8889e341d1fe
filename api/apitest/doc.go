// Package apitest is an in-memory api.Backend for tests of the HTTP layer
// (package api and package client): one engine.Engine under a mutex, no
// Raft, no disk. It is a test double, not a server mode. Its reads answer
// in the shapes the node's backend sends (package api/wire); the ledger
// they read is a list of the entries Submit kept, not the ledger package.
package apitest
