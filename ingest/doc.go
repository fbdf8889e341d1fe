// Package ingest consumes commands from Kafka topics into a Raft node,
// exactly once (franz-go; `accrual serve --kafka-brokers … --kafka-topics …`).
//
// A message is one command or an NDJSON run of them (SPEC §5). Every node
// runs a Consumer, but only the leader consumes: when its node becomes
// leader (raft.Node.IsLeader: elected, and every entry of earlier terms
// applied) the consumer seeks each partition to the offsets the replicated
// state holds (raft.Node.IngestOffsets; a partition never consumed starts
// at its first record), and it stops as soon as the node no longer leads.
// Kafka's consumer groups and committed offsets are not used.
//
// Polled messages become entries (entry.go): the valid commands of up to
// MaxEntryCommands (4096) commands' worth of whole messages, with the
// offset range [from, next) each partition moved over. raft.Node.SubmitIngest
// proposes both in ONE Raft entry, applied only if every range starts where
// the replicated offsets stand; the commands and the new offsets are then
// applied together (raft/ingest.go). The state therefore holds a message's
// commands if and only if it holds the offset after it: after a crash, a
// leader change or a restart consumption resumes exactly where the applied
// state ends, no command applied twice, none skipped, without relying on
// command ids; an entry from a proposer that fell behind (ErrIngestStale)
// applies nothing anywhere, and the consumer seeks again. Messages of one
// partition apply in offset order; partitions interleave.
//
// Bad messages get what bad lines get on /v1/stream: a line that does not
// decode is answered `invalid`, one whose `at` is more than 5 minutes
// ahead of the leader's clock `at_in_future`, a quote (a read) `invalid`,
// an empty message one `invalid` result; none is applied, and the offsets
// move past them all the same. A missing `at` is the leader's clock.
//
// With Config.ResultsTopic every consumed message gets one record there:
// its result lines (SPEC §6) as NDJSON, the message's key, and a header
// "source" = topic/partition/offset. Results are produced by the leader
// that applied them, after the apply: if that leader dies in between, the
// results of its last entries are lost (the state is not); the change feed
// and the ledger are the record.
//
// Status: Partitions (replicated offsets; the high watermark and the lag
// on the leader) feed /v1/cluster and /metrics.
package ingest
