// Package faultinject is test support: fault injection for a raft.Node,
// through the seams of raft.Config (raft.Seams). Production nodes never
// install it; `accrual serve` does when its environment asks (FromEnv), so
// the chaos harness (chaos/, `accrual chaos`) and the crash tests
// (cmd/accrual) drive real node processes.
//
// With ACCRUAL_FAULTS=1, or Install in a test:
//
//   - transport.go: a fault layer above TCP (below TLS, when on)
//     partitions, drops and delays Raft messages;
//   - slowdisk.go: the Raft log, stable store and snapshots are slowed;
//   - rules.go: the node's wall clock (raft.Seams.Clock) is shifted by
//     clock_offset_ms, as a bad NTP server or a restored VM would;
//   - journal.go: every applied log is journalled to DATA/applied.journal,
//     which ReplayJournals (replay.go) replays offline for the chaos checks;
//   - corrupt.go: Corrupt flips one byte, deterministically in checked
//     bytes, of a stopped node's Raft log, ledger, snapshot or member
//     record (the corrupted-disk tests and the chaos fault "corrupt");
//   - crashsnap.go: when ACCRUAL_CRASH_AT arms a crash point
//     (raft/crashpoint), the snapshot store carries the snapshot-receive
//     point.
//
// The control file (DATA/faults.json under ACCRUAL_FAULTS=1) is re-read
// every 100 ms; a missing or empty file means no faults, a malformed one is
// logged and the previous rules stay:
//
//	{"block": ["127.0.0.1:7001"],          // partition: peers' Raft addresses
//	 "drop":  {"127.0.0.1:7002": 0.05},    // probability a message is lost
//	 "delay_ms": {"*": 20},                // delay before each message is sent
//	 "disk_delay_ms": 50,                  // slow disk (slowdisk.go)
//	 "clock_offset_ms": 31536000000}       // wall clock a year ahead
//
// Keys of drop and delay_ms are peers' Raft addresses or "*" (every peer,
// including connections a peer opened to this node, whose peer address is
// not known). block applies to connections this node dials: it refuses new
// dials to the peer and cuts the open ones. A symmetric partition therefore
// needs the rule on both sides (the chaos harness writes every node's file).
// Raft runs on TCP, so a lost message cuts its connection (the messages in
// flight on it are lost too, and hraft re-dials): loss looks like resets,
// not silent gaps in a stream, which is what a real network does to TCP.
// See docs/RELIABILITY.md.
package faultinject
