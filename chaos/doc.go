// Package chaos runs a real Accrual cluster (`accrual serve` processes on
// loopback) under a deterministic client workload while injecting faults
// chosen from a seed — SIGKILL of the leader and of followers with restarts
// from the same data directory, SIGSTOP/SIGCONT pauses, network partitions,
// message loss/delay in the Raft transport (raft/faultinject) and a slow disk
// under one node's Raft log and snapshots, and a node's wall clock shifted
// by days, a year, backwards or drifting (raft/faultinject); on request
// (Config.Kinds, AllKinds), a byte flipped in a stopped node's files,
// after which the node must refuse to start and rejoin as a new member, or
// recover (corrupt.go), and a node's state wiped, after which the cluster
// must refuse it under its old id until it rejoins (wipe.go) — and then
// checks that nothing acknowledged was lost or applied twice, that replicas
// converge to the same state, that balances keep their invariant, that
// reads of a hot member are linearizable (porcupine), that no node's
// engine clock went past the harness's own (nothing matured or expired
// early), and that every node's ledger verifies. See docs/RELIABILITY.md.
package chaos
