// Package raft replicates the accrual engine with hashicorp/raft.
//
// Data flow: HTTP → Submit (batcher) → one Raft entry per group commit →
// ApplyBatch (FSM) → engine.Apply → views, NDJSON results back to the
// waiting callers; the ledger writer, just behind, → ledger.AppendWithRecords.
//
// # Layout
//
// Under Config.DataDir (directories created 0700):
//
//	raft/       Raft log and stable store (logstore, Pebble, every write synced)
//	snapshots/  hraft.FileSnapshotStore (engine snapshots, zstd streams),
//	            and the spool of a snapshot being taken (state-*.tmp)
//	ledger/     the ledger (Pebble, NoSync; the Raft log is the durable source)
//
// A data directory can also be seeded offline, from an imported history
// or a backup (seed.go, backup.go): a ledger and one snapshot of a
// one-voter cluster, with an empty log; Open starts from it as from any
// restart.
//
// # Log entries
//
// Every LogCommand entry starts with a kind byte:
//
//   - 1, commands: codec.Compress(uvarint count ++ engine.AppendBinary(cmd)…).
//     One entry carries up to MaxBatchCommands (4096) commands or
//     MaxBatchBytes (256 KiB, before compression) so Raft sees hundreds of
//     entries a second, not commands (FIELD-NOTES "batching at every layer").
//   - 2, register: node id and HTTP address. This is the replicated
//     directory node id → HTTP address used by NotLeaderError to redirect
//     clients. A leader proposes its own entry after it wins an election
//     (when missing or different), and AddVoter proposes the new node's
//     entry before adding it. The directory is part of every snapshot.
//     hraft has no per-server metadata, hence a log entry.
//   - 3, program: varint effective time (ms) and a program source, from
//     SetProgram (PUT /v1/program); checked again on every replica.
//   - 4, genesis: the program of record (genesis.go). Bootstrap writes it at
//     index 2, right after hraft's configuration entry, so every replica
//     applies every command under the cluster's program whatever its own
//     Config.Program: a joining node takes the program from the log, or
//     from the leader's snapshot, which carries it in the engine's stream.
//   - 5, ingest (ingest.go): commands consumed from a stream (Kafka, package
//     ingest) with the offset range [from, next) of every partition they
//     came from, then an entry-1 body. Applied only when every range starts
//     at the replicated offset of its partition (a stale proposer's entry
//     applies nothing, on every replica), and then through the same
//     command path as kind 1, the offsets moving with the commands. The
//     offsets are replicated state: in every snapshot, read with
//     Node.IngestOffsets, proposed with Node.SubmitIngest.
//
// # Group commit (Submit)
//
// Submit encodes the (already validated) commands, and enqueues them; the
// queue is bounded node-wide by MaxQueue commands counted from enqueue until
// the caller is answered (so in-flight entries count too): a full queue
// fails fast with ErrOverloaded. One batcher goroutine gathers requests into
// an entry: if no entry is in flight it proposes at once (lowest latency
// when idle); while Raft is busy it waits up to BatchWindow for the entry to
// fill. hraft (BatchApplyCh, MaxAppendEntries 64) then writes several
// entries with one fsync and replicates them. A waiter goroutine answers
// callers in log order from the entry's response: the NDJSON of the entry
// and each line's end offset, so a caller's lines are a sub-slice, no copy.
// A caller is answered only after its entry is committed and applied.
//
// Errors: *NotLeaderError (errors.Is ErrNotLeader; carries the leader's id
// and HTTP address when known), ErrOverloaded, ErrClosed, ctx errors, and
// ErrUnknownOutcome when leadership was lost while the entry was in flight
// (it may or may not commit: the client retries with the same ids, which
// the engine makes idempotent, SPEC §6). A follower does not render
// results (only a leader can have waiting callers); if leadership is lost
// between commit and apply, the waiting callers get ErrUnknownOutcome too.
//
// # Disk space (diskguard.go)
//
// One goroutine reads the free space of DataDir's filesystem (statfs, every
// DiskPollInterval, 500 ms) into an atomic. Below DiskReserveBytes (256 MiB
// by default: a Pebble WAL rotation and flush of both stores, the queue and
// a snapshot) Submit and SetProgram fail with *DiskFullError (errors.Is
// ErrDiskFull) before anything is queued or proposed: a refused command
// changes nothing and its id stays free. Reads are unaffected. Writes are
// admitted again once the free space reaches reserve + reserve/8 (the
// hysteresis keeps a node at the edge from flapping), without a restart.
// Submit pays one atomic load for this. Ticks are refused too (the log must
// stop growing); membership changes and leadership transfer are not, so an
// operator can move leadership to a node with room. A follower cannot
// refuse replicated entries: its guard only reports (Status, the API's
// gauges, an ERROR log every minute); if its disk fills completely Pebble
// stops the process, which a 3-node cluster survives.
//
// # Apply, command records and the ledger (ledgerwriter.go)
//
// The engine is store-backed (engine.Options.StoreBacked): it keeps at
// most Config.RecordsInMemory command records resident; every record is
// also in the ledger's Pebble DB. ApplyBatch runs one apply.Step.ApplyAt
// per command entry at the entry's Raft index: a prefetch reads the
// records the entry names that the engine evicted (ids of duplicates and
// the originals of refunds, cancellations, captures, releases), then
// engine.Apply runs with no I/O, so its output never depends on what was
// resident. A record that cannot be read stops the node (a panic):
// applying without it could answer a duplicate as new, and the replicas
// would diverge.
//
// For the entries above the ledger's position, ApplyBatch gathers their
// ledger entries (owners via Engine.AccountOwner) and the command records
// they created or changed. It does not write them: it hands the whole
// batch, at the batch's last Raft index, to the ledger writer, a goroutine
// of its own that makes ONE ledger.AppendWithRecords per batch: entries,
// records and the position in one Pebble batch, so a crash leaves them
// consistent. The apply path of one batch (engine, read views, results)
// thus overlaps the ledger's Pebble writes of the one before. The writer's
// queue is bounded (ledgerDepth, 2 batches): when it is full the apply
// path waits, so memory stays bounded and the ledger trails the applied
// index by a few batches at most (the queued ones and the one being
// written). The ledger's Position() is the last index written; after each
// batch the engine evicts records beyond its window, never one changed
// after that position (its write may not be visible yet). An entry at or
// below the ledger's position (a restart re-applying the log above its
// snapshot, or a snapshot installed below the ledger's position) adds no
// ledger entries, but the records it changed are written again at once
// (ledger.PutRecords): an install imports the leader's copies, which may
// predate logs this node had applied, and an evicted record read back
// without the refunds re-applied here would make the replicas diverge.
//
// Reads of the ledger go through Node.CurrentLedger, which waits (without
// holding up applies) until the ledger holds every log applied when it was
// called, so a read shows every write acknowledged before it; past 5 s it
// fails with ErrLedgerBehind (only a stalled disk gets there). A failed
// append stops the writer and the node refuses new commands with that
// error until it is restarted.
//
// On restart hraft restores the latest local snapshot (engine state at
// index S, without command records) and replays the log after S. Entries
// with index ≤ ledger.Position() are applied to the engine but not
// appended again, so the ledger never holds an entry twice. The records in
// the DB may then be ahead of the engine (written up to the ledger's
// position): engine.LoadRecord ignores what was written at or after the
// index being applied (the as-of rule), so a replayed command never finds
// its own future record. Because ledger writes are NoSync
// (and trail the apply path), a crash can lose its tail; the replay
// re-appends it from the Raft log. A snapshot drains the writer, and its
// Persist syncs the ledger's WAL, so the ledger is never behind the latest
// snapshot after a crash (entries the snapshot covers would otherwise be
// lost with the log prefix it compacts). Restore drains it too before it
// touches the ledger.
//
// A follower that receives an InstallSnapshot (it fell more than
// TrailingLogs behind) never sees the commands between its ledger's
// position and the snapshot's index, so the leader sends their ledger
// entries with the snapshot: shippingStore (snapship.go) appends the
// leader's ledger, up to the snapshot's index, as a second zstd stream
// after the engine state whenever a snapshot is opened on the leader, and
// Restore imports the entries the follower lacks (by seq, through
// ledger.Append, so owner ids, indexes and balances come out as if it had
// applied them). Every replica's ledger then holds the same entries;
// batch positions and the hash chain stay a replica's own, and
// ledger.VerifySummary.Digest compares contents across replicas. The
// section carries the whole ledger and every command record (hraft does
// not tell the leader where the follower's ledger ends), so an install
// costs a read of the leader's ledger; snapshots persisted locally stay
// engine-only, and an installed one keeps the section and a mark
// (installMark) so that a follower killed mid-import finishes it when it
// restarts. Every open of a snapshot is a send, with the section, but
// the restores (at start, and the first open after an install): the
// section goes even when the leader steps down as it opens the snapshot.
// A section missing over a ledger behind the snapshot stops the node: it
// would lack the entries and command records in between. Both sides
// stream: the leader sends the stored snapshot file and the section's
// temporary file, the follower's hraft writes them
// to its store, and Restore decodes the engine and imports the ledger a
// batch at a time; neither holds a snapshot whole in memory.
//
// # Snapshots
//
// FSM.Snapshot (snapshot.go) streams the state, uncompressed, into a spool
// file (state-*.tmp) in the snapshot store's directory under the apply
// lock: a magic, the applied index, the node directory, the ingest offsets
// (since magic ACRS2; ACRS1 snapshots are read with none), then the
// engine's stream (Engine.Snapshot, through its own 64 KiB buffer). The
// engine has no copy-on-write, so applies wait while it is written (the
// pause is the serialisation, docs/BENCHMARKS.md "Snapshots in bounded
// memory"), but the state is never held twice in memory: only the page
// cache holds the spool. Persist then syncs the ledger's WAL and
// compresses the spool (zstd SpeedFastest, a block at a time) into the
// sink, off the apply path; Release removes the spool, and a node's start
// removes spools a crash left (shippingStore.removeStale).
//
// Restore reads the header, then, holding the apply lock, drops a
// non-empty state before decoding the new one: the engine is replaced by
// an empty one, the member pager forgets its id order, and a GC runs
// (cheap: it marks only what is live), so a follower installing a
// snapshot holds one state at its peak, not two. Readers of the engine
// wait for the install; readers of the published views see the old state
// until the new views are in. A snapshot that fails to decode after the
// drop makes the node fatal (it refuses commands) instead of serving the
// empty state; a restart restores its latest local snapshot. On start-up
// the engine is empty and nothing is dropped.
//
// A restart restores the latest local snapshot and replays the log after
// it, never the history: command records are in the ledger's DB, not in
// the snapshot. Its cost is the decode plus one view per member (the view
// store is sized for them first) plus the log after the snapshot.
//
// Defaults: SnapshotThreshold 2048 entries and TrailingLogs
// 1024 entries. An entry holds up to 4096 commands (≈ 100 KiB compressed),
// so a snapshot is taken after at most ~8M commands and the log keeps
// ~4M commands (≈ 100–250 MiB) after it: a follower that restarts or lags a
// few seconds at peak load catches up from the log, never by a full state
// transfer, while disk use for the log stays bounded. Snapshot cost scales
// with the state (members, ids), not with the log, so snapshotting more
// often would mostly cost apply pauses and disk writes. SnapshotInterval
// (30s) is how often hraft checks the threshold.
//
// # Reads
//
// After each ApplyBatch the views of the members the batch touched
// (Engine.Touched + Figures) are published, before the applied index and
// the engine clock (atomics) move; readers never take the apply lock. A
// view is kept as the engine's ViewFigures (56 bytes, no pointers) at the
// member's dense index, in chunks of 4096 under 64 striped RWMutexes; an
// id goes into a 64-shard id → index map once, when the member is first
// published (views.go). A view is computed at the clock of its
// publication, and republished when it changes:
//
//   - by a command: the batch touched the member;
//   - by maturation, expiry or a hold's end: the leader's tick (proposed
//     every TickInterval, 1s, at the leader's wall clock) touches the
//     members with something due, so the first tick at or after the time;
//   - by a plan's end: the first batch, tick or not, whose clock reaches it
//     (Figures says when a view's plan ends; the fsm keeps those deadlines
//     in a heap, one item per member with a plan, viewdeadlines.go);
//   - by the yearly tier reset: every view, in the batch whose clock enters
//     a new UTC year;
//   - by a program change (new tier thresholds): every view, viewSweep
//     (16384) members a batch from the batch the change takes effect in.
//
// So after each batch a published view is the member's view at the clock
// except for what falls due by the clock since the last tick, and for up
// to ceil(members/16384) batches after a program change. (Before, plan ends
// and program changes reached the views through a sweeper of 16384 views
// per tick batch: up to ceil(members/16384) ticks, 23 minutes at 22.7M
// members.)
//
// Member(name, c): Stale serves any node's views; Leader requires the node
// to be leader and to have passed a Barrier in its current term (run right
// after winning an election, so entries of earlier terms are applied);
// Linearizable additionally notes CommitIndex, confirms leadership with
// VerifyLeader (one heartbeat round shared by all concurrent readers: a
// reader joins the next round to start), checks the term is unchanged and
// waits until the applied index reaches the noted commit index.
//
// MemberPage(after, limit, c) pages through all members in id order (GET
// /v1/members, the member export). Not over the views: a page is one state
// and must equal replay's dump, so its views are computed from the engine
// in one hold of the apply lock, O(limit·log n), after a seek in an order
// of member ids kept as sorted runs (memberorder.go), built only once
// someone pages and extended 16384 new members per hold of the lock.
//
// # Crash points
//
// Package raft/crashpoint kills the process with SIGKILL at a named point in
// the middle of an operation, for crash-recovery tests only
// (ACCRUAL_FAULTS=1 ACCRUAL_CRASH_AT=<point>[:<n>]; docs/RELIABILITY.md,
// "Crash points"). The hooks are one line each: apply-batch in ApplyBatch
// after a command entry reached the engine, snapshot-write in Snapshot
// after the first block of the engine's stream reached the spool file,
// snapshot-persist in Persist before sink.Close, snapshot-install in
// Restore after the engine's stream was decoded and before it is
// installed, log-compaction in
// logstore's DeleteRange before its batch commits. One more,
// snapshot-receive, falls inside hraft's write of a received snapshot: it
// sits in a snapshot-store wrapper of raft/faultinject, installed through
// Seams.Snapshots. Unarmed, a hook costs one branch on a bool.
//
// # Readiness (ready.go)
//
// Ready is false until the state machine has applied the last entry the
// log held at Open (the restored snapshot alone is an older state), a node
// that held nothing has applied something (genesis or a snapshot), and a
// leader is known; then it stays true. accrual serve answers /readyz 503,
// and /v1 reads of the local state too, until then.
//
// # Cluster identity (clusterid.go)
//
// Every Raft connection starts with a hello carrying the cluster's 16-byte
// id, made when a node bootstraps and kept in DATA/cluster-id; a joining
// node adopts the id of the leader that adds it. A node refuses a peer
// that presents another cluster's id, so a node of another cluster added
// by mistake never takes part in elections or overwrites a log. With
// mutual TLS (tls.go) peers are also authenticated by the cluster's CA.
// The hello (hello.go) also names the node: a peer recorded in
// DATA/cluster-members as having held the id that now presents none lost
// its data, and is refused until removed and added again.
//
// # Corrupted disks (integrity.go)
//
// Open checks the node's files before anything is restored: the whole
// Raft log is read once (logstore.Verify: Pebble checks every block's
// CRC), the ledger's Open reads its meta, owners and balances, every
// retained snapshot's meta.json and state.bin (CRC64) are checked, and
// DATA/cluster-members carries a crc32c line. A damaged file stops Open
// with a CorruptDataError naming it and the remedy (rejoin as a new
// member), except a snapshot the node can do without (an older one and
// the log cover it: the log holds every entry after the older one, with
// no gap), which is set aside in DATA/snapshots-damaged. A ledger whose
// position is below the snapshot Raft would restore (it lost synced
// writes: a damaged WAL) is never paired with it (checkLedgerCovers): the
// node starts from an older state the log brings forward, setting the
// newer snapshots aside in DATA/snapshots-ahead-of-ledger, or refuses,
// naming the ledger. While
// the node runs, a background scrub (scrub.go) reads every block of both
// stores' tables at a bounded rate (Config.ScrubBytesPerS); a damaged
// table goes to Config.OnCorruptData, which stops the node.
// docs/RELIABILITY.md, "Corrupted disks", says what is checked when.
//
// # The cluster clock (clock.go, clocksample.go)
//
// Every node samples its peers' wall clocks each ClockSampleInterval over
// the Raft port (a clock probe); the time a leader stamps (ticks, a
// missing `at`, the at_in_future bound: Node.ClusterTime) is one a
// majority of the voters' clocks agree on within ClockToleranceMS
// (Marzullo's algorithm). A leader off that time by more stops ticking
// and stamping until the clocks agree; Status.Clock shows it.
//
// # Raft settings
//
// BatchApplyCh on, MaxAppendEntries 64 (entries, not bytes: the batcher
// budgets bytes), NoLegacyTelemetry, the transport's default pipelining,
// hclog at WARN by default. Timeouts default to 500/500/250 ms
// (heartbeat/election/lease) and 5 ms commit timeout: fast failover on
// loopback and LANs without flapping under large entries.
//
// # Seams (config.go)
//
// Config.Seams let the one who builds the Config wrap parts of the node as
// Open builds them: the TCP stream layer of the transport (below TLS and
// the cluster-id hello, see transport.go), the Raft log and stable store,
// the snapshot store, and a LogObserver that sees the Raft logs of every
// applied batch and every snapshot restore, under the apply lock.
// ReplayLogs applies a sequence of logs to a fresh state machine, offline,
// and returns its state hash. Production leaves the seams empty (no
// wrapper, no cost); package raft/faultinject fills them for the chaos and
// crash tests (`accrual serve` under ACCRUAL_FAULTS=1): message faults,
// a slow disk, the snapshot-receive crash point, and a journal of applied
// logs that ReplayLogs replays. See docs/RELIABILITY.md.
package raft
