// Package bench drives load benchmarks of Accrual (and of a PostgreSQL peer)
// with the seeded command streams of bench/workload: closed-loop (maximum
// throughput with N clients) and open-loop (a fixed rate, latency measured
// from each batch's intended send time, so a slow target cannot hide its
// queueing: no coordinated omission), with HDR latency histograms, errors by
// code, resource usage, a JSON report, PNG charts and an offline validation
// of the final balances. The scale run (Scale, ScaleSampler) replays a
// long stream into the engine and a ledger and records how heap, resident
// memory, disk and throughput grow with commands and members, sampled every
// 5 % of the run and plotted (WriteScalePlots), with the figures
// extrapolated to a year; at a member's real rate of commands (the
// workload's CommandsPerDay) the run reaches the steady state, where the
// heap scales with members and their live lots, not with commands.
//
// A Target is anything that takes batches of NDJSON command lines and gives
// one NDJSON result line back per command: the engine in process, the
// engine plus ledger (replay), an HTTP node or cluster, or PostgreSQL.
//
// Streams (issue 16): RunVia times the whole stream into one node through
// one route, POST /v1/stream or a Kafka topic the node consumes (a kfake
// broker in this process), with the node's and this process's CPU over
// the timed window (`accrual bench --via`). A ChangeFollower reads GET
// /v1/changes over HTTP while a run writes and reports whether it kept up
// (`accrual bench --follow-changes`).
//
// It measures; it does not assert speeds (tests check the report, not the
// figures).
package bench
