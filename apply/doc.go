// Package apply is the one apply step every caller of the engine shares:
// a batch of engine.Command goes through one engine.Apply; the results are
// rendered as NDJSON lines; the engine's ledger entries are turned into
// ledger.Entry (kinds mapped by LedgerKind and LedgerAccountKind, owners
// named by engine.AccountOwner) and, for the callers that write a ledger
// themselves, appended at a position the ledger does not hold yet.
//
// What it is:
//
//   - Step: the engine pointer and the reusable scratch of the step
//     (results, entries, ledger entries). After warm-up Apply,
//     LedgerEntries and AppendNDJSON allocate nothing per command when the
//     caller reuses its buffers (BenchmarkStep pins it).
//   - The single mapping of engine entry and account kinds to ledger kinds,
//     pinned by a test that walks every kind the engine declares.
//   - ReadBatches: the NDJSON command reader of `accrual replay`, `report`
//     and `simulate`, decoding the next batch while the current one applies.
//
// What it is not:
//
//   - Not concurrent: a Step serves one goroutine at a time, like the
//     engine it drives; the caller holds whatever lock guards the engine.
//   - Not a log decoder, not a ledger writer with its own goroutine (the
//     Raft FSM decodes log entries and hands ledger entries to its own
//     writer), not an observer of results (callers pass Apply's results and
//     entries to theirs).
//   - Not the owner of what it hands out: the slices Apply returns are valid
//     until the next Apply; LedgerEntries and AppendNDJSON append to the
//     caller's buffers, which the caller may keep.
package apply
