// Package pgpeer runs the benchmark's command stream against PostgreSQL, as
// the side-by-side peer of `accrual bench --peer postgres`.
//
// The model (schema.sql below) is a simplified but honest version of the
// same work, done the way a careful application on PostgreSQL would do it:
// one transaction per batch, every command one call of a PL/pgSQL function
// (so a batch is one pipelined round trip, not one per statement), fsync and
// synchronous_commit on, every change of points an append-only ledger row.
//
//   - members(id pk, available, pending, spend, earned, redeemed): the
//     balances; the member row is locked (SELECT … FOR UPDATE) by each
//     command that touches it.
//   - lots: one row per purchase's points, pending until mature_at
//     (pending_days); they mature lazily when their member is touched
//     (one indexed UPDATE … RETURNING per command).
//   - commands(id pk): every command id, accepted or rejected, with a hash of
//     its payload: a repeated id with the same payload is a duplicate, with
//     another payload id_conflict; purchases keep amount, points and the
//     refunded part, redemptions their points and whether cancelled.
//   - ledger: append-only (seq, command_id, kind, member, points, at).
//   - rates(partner, category) and tiers: the program, resolved by the bench
//     with the engine's precedence (partner category rate > partner rate >
//     program category rate > program rate).
//
// Arithmetic, as in the engine: a purchase earns
// floor(amount × points × multiplier_bp / (per × 10000)) with the tier
// multiplier of the member's spend, capped by caps.per_purchase; a refund
// claws back proportionally, floor(points × refunded_so_far / amount) less
// what was already clawed back, from the lot if still pending, else from
// available (which may go negative, the engine's debt); a redemption needs
// min_points and enough available points; cancel_redemption credits them
// back once; adjust adds or removes points.
//
// Left out (the engine does them, PostgreSQL here does not, so this favours
// PostgreSQL): campaigns, welcome bonus, the monthly cap, lot expiry and
// FIFO consumption of lots by redemptions, tiers by yearly rather than
// lifetime spend, the §9 commands (this peer runs the payback, cashback and
// airline mixes; other types are answered "invalid").
package pgpeer
