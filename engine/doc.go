// Package engine is the deterministic state machine of Accrual: it parses a
// loyalty program (SPEC §2, §9, §10), decodes commands strictly (SPEC §6), and
// applies them in batches to member state, producing one result per command
// and the double-entry ledger entries each accepted command causes (SPEC §7).
//
// It is pure: no I/O, no wall clock, no goroutines, no floats, and no
// iteration over maps where order could reach the output. The same program
// and the same command stream give the same bytes on every replica and in
// offline replay. Storing entries is package ledger's job; replicating
// commands is package raft's.
//
// Memory (pinned by TestMemoryFootprint and TestBytesPerMember): a member
// costs 80 bytes of fixed state, its id bytes plus one length byte in the
// name store (names.go), and an 8-byte index slot (at 37–75 % load): at
// most 127 bytes with a 24-byte id, index slack included (126.2 where the
// test measures it, the index just doubled). Its balances and counters
// are int32s; a value that does not fit, debt, held points and §9 state go
// to a 168-byte ext (plus slices) that only members that need one have (a
// plan, holds, challenge progress, action counters, a debt, a balance past
// 2^31). It holds 24 bytes per lot: a member drops its empty matured lots
// from the front (lots.go), so its lots follow its live points, not its
// history (a lot is live from its earning until it is spent or expires).
// §10's offers and day counters take 40 bytes more (plus 8 per offer),
// only in programs that have offers or daily limits. §10's program-wide state
// (budgets spent by campaign id, claims per reward) is a few words per
// campaign and reward, in the snapshot like the rest.
// Each command id keeps an 88-byte record, its bytes and an index slot, so
// that its outcome stays final (SPEC §6); a purchase keeps 40 bytes more for
// refunds (and 24 per refund), a redemption, claim or hold 32–40 bytes plus
// 24 per lot part it took (a part keeps its lot's expiry, for giving back
// to a dropped lot). Members and records grow in 16,384-row chunks, never by
// copying.
//
// Command records: keep-all or store-backed. A keep-all engine (New, the
// default) keeps every record in memory and in its snapshot, as it always
// has. A store-backed engine (NewWithOptions with Options.StoreBacked) keeps
// them durable in the caller's store and only a bounded window resident,
// so that its memory follows members, not history; the engine itself does
// no I/O. Its caller runs each batch in three steps (prefetch, execute,
// commit), at positions that strictly increase:
//
//  1. Before Apply: ids := e.AppendMissing(cmds, ids[:0]); for each id the
//     store holds, e.LoadRecord(id, value, pos), where pos is the batch's
//     position; then e.SetPosition(pos).
//  2. e.Apply(cmds, ...).
//  3. After Apply: e.AppendDirty(fn) hands over every record the batch
//     created or changed, encoded; write them to the store in the same
//     atomic batch as the ledger entries. Then, at any time before the next
//     step 1, e.Evict(maxResident, writtenThrough), where writtenThrough is
//     the last position whose store writes are visible to reads.
//
// A store-backed snapshot holds no record (only their count, for Totals),
// so it is the same bytes whatever the window; the records travel with the
// store. After a crash the store may be ahead of the snapshot the engine
// restarts from; LoadRecord's as-of rule reads each stored record as it was
// before the position being replayed, so the replay gives the same bytes.
// What still grows with history in a store-backed engine: holds (a 40-byte
// row, their lot parts and an open hold's id stay resident, since member
// state refers to them and they close lazily at their deadline; holds are
// rare, SPEC §9.7). Evicted records' ids live in arena chunks the GC frees
// once no record or ledger entry refers to them.
//
// Lifecycle (SPEC §4) is lazy: a member is brought to a command's time when
// the command touches it; a tick brings only members with something due
// (due.go: a queue with at most one item per member, no later than its
// next due time), so its cost follows the lots falling due, not the number
// of members, and the queue costs 4 bytes per member and 16 per member with
// something due, whatever their history. Snapshots leave the queue out;
// Restore rebuilds it from the members.
package engine
