// Package workload generates seeded, deterministic command streams (SPEC §5
// and §9, NDJSON) for benchmarks of the accrual engine, together with the
// program each stream is written for.
//
// The same Config (profile, seed, sizes) and count always give the same
// bytes, and a shorter stream is a prefix of a longer one. Everything is
// driven by one xoshiro256** generator per Generator (seeded via splitmix64);
// there is no global state, so generators can run in parallel goroutines.
// Lookup tables (Zipf buckets, alias tables, log-normal quantiles) are built
// once in New with float64 math; the hot path is integer-only, and Next
// appends into the caller's buffer without allocating (about 100–150 ns a
// command on one core, see BenchmarkNext).
//
// Profiles:
//
//   - payback: a PAYBACK-like coalition. 35M members ("M%08d"), activity
//     Zipf(s=1.1) with the hot ranks spread over the id space by a
//     permutation; 700 partners p000…p699, Zipf(s=1) by size, each with a
//     primary category (fuel, groceries, pharmacy, travel, fashion,
//     electronics, dining, home); amounts log-normal, median 3000, σ 0.9.
//     Mix: 85% purchase, 6% refund, 6% redeem (20…2000 points), 1%
//     cancel_redemption, 2% adjust (±). Its app-launch campaign (20 points a
//     purchase, January to March) has a budget of 200M points (SPEC §10.1):
//     two to three days of the default stream (5M commands a day), so a
//     long run spends it and then stops matching it.
//   - cashback: a bank's card cashback, unit money, 10M cards ("card:<n>"),
//     two acquirers, merchant-category rates, a monthly and a daily cap
//     (SPEC §10.4), no expiry. It has no purchases-per-day limit: under the
//     Zipf skew the busiest cards make most purchases, so any limit a bank
//     would set rejects most of the stream (40 a day rejected 65% of the
//     purchases of the first 1M commands over 1M cards).
//     Mix: 93% purchase, 5% refund (70% of the full amount: chargebacks and
//     returns), 1.5% redeem, 0.5% adjust.
//   - airline: 2M members ("FF%07d"), partners air/hotel/cars, fare classes,
//     tiers by purchases, inactivity expiry. Mix: 86% purchase, 5% refund
//     (80% full), 6% redeem (award miles), 1% cancel_redemption, 2% adjust.
//   - club: SPEC §9. 1M members ("C%06d"). Mix: 70% purchase, 9% hold (56%
//     followed by a full capture, 24% by a partial capture, 15% by a release,
//     1…20 s later; 5% time out), 6% action, 3% membership, 3% referral (a
//     recent purchaser refers a brand-new member, who then soon purchases),
//     3% transfer, 3% refund, 1% redeem, 1% adjust, 1% quote (no id).
//
// On top of the mix, every TickEvery-th command (default 10000) is a tick.
// Command ids are "<profile>-<n>", n the command's 0-based position in the
// stream (quotes carry none), so they are unique. `at` is RFC 3339 UTC with
// milliseconds: command n's nominal time is StartMS + n·86400000 /
// CommandsPerDay, with a jitter of up to ±3 command intervals (at most ±1 s);
// 0.5% of the commands are late by 1 minute to 3 hours (never before
// StartMS). Captures and releases carry their due time.
//
// References are always well-formed: a refund names a purchase among the
// last 32768 with the same member and partner, and never refunds more than
// is left of it; a cancel_redemption names one of the last 4096 redemptions,
// each at most once; captures and releases close their hold once; referred
// members are new. Whether the engine accepts them depends on balances the
// generator does not track (a redemption, hold or transfer may be rejected
// with insufficient_points; a cancel of a rejected redemption with
// unknown_original) — as in production.
//
// Program returns the program (YAML) of the profile; for the default
// configurations it is byte-identical to testdata/bench/<profile>.yaml
// (checked by TestPrograms; regenerate with
// `go test ./bench/workload -run TestPrograms -update`). The payback program
// is generated for the configured number of partners.
package workload
