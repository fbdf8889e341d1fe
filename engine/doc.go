// Package engine is the deterministic state machine of Accrual: it parses a
// loyalty program (SPEC §2, §9), decodes commands strictly (SPEC §6), and
// applies them in batches to member state, producing one result per command
// and the double-entry ledger entries each accepted command causes (SPEC §7).
//
// It is pure: no I/O, no wall clock, no goroutines, no floats, and no
// iteration over maps where order could reach the output. The same program
// and the same command stream give the same bytes on every replica and in
// offline replay. Storing entries is package ledger's job; replicating
// commands is package raft's.
//
// Memory (pinned by TestMemoryFootprint): a member costs 152 bytes of
// fixed state plus its id bytes and an 8-byte index slot (at ≤ 75 % load),
// and 24 bytes per lot; a §9 feature adds 88 bytes (plus slices) once it
// touches the member (a plan, holds, challenge progress, action counters).
// Each command id keeps a 72-byte record, its bytes and an index slot, so
// that its outcome stays final (SPEC §6); a purchase keeps 40 bytes more for
// refunds, a redemption or hold 32–40 bytes plus 16 per lot part it took.
// Members and records grow in 16,384-row chunks, never by copying.
//
// Lifecycle (SPEC §4) is lazy: a member is brought to a command's time when
// the command touches it; a tick brings only members with something due
// (a queue ordered by due time), so its cost follows the lots falling due,
// not the number of members.
package engine
