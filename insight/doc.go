// Package insight computes loyalty KPIs from a stream of applied commands,
// their results and ledger entries plus the final engine state (Collector,
// Compute), with the program's campaign budgets and reward stock (SPEC §10),
// and simulates a candidate program against the current one on the same
// history (Sim), down to the day each campaign budget runs out. Definitions
// of every figure: docs/INSIGHT.md.
//
// It does not change state: it observes what the engine applied.
package insight
