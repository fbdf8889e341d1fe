// Package apitest is an in-memory api.Backend for tests of the HTTP layer
// (package api and package client): one engine.Engine under a mutex, no
// Raft, no disk. It is a test double, not a server mode.
package apitest
