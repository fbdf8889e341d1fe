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
// Memory: a member costs 136 bytes of fixed state plus its name, 24 bytes
// per lot, and 72 bytes more (plus slices) once a §9 feature touches it
// (a plan, a hold, challenge progress, action counters). Each accepted or
// rejected command id keeps a 64-byte record plus its id bytes and a map
// slot; purchases keep 40 bytes more for refunds, redemptions and holds 32
// to 40 bytes plus 16 bytes per lot they took from.
//
// Lifecycle (SPEC §4) is lazy: a member is brought to a command's time when
// the command touches it; a tick brings only members with something due
// (a queue ordered by due time), so its cost follows the lots falling due,
// not the number of members.
package engine
