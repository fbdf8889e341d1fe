// Package logstore implements hashicorp/raft's raft.LogStore and
// raft.StableStore on a dedicated Pebble instance.
//
// What it is:
//
//   - The durable Raft log and the Raft "stable" state (current term, last
//     vote) of one node, in its own Pebble database in its own directory.
//     Never share the directory or the *pebble.DB with the state machine's
//     store: the two have opposite durability settings (this one syncs every
//     write, the state machine's does not have to).
//   - Log entries live under the key prefix 0x01 followed by the big-endian
//     uint64 index, so keys sort by index. Stable keys live under 0x02
//     followed by the caller's key. Every iterator is bounded to one prefix,
//     so a stable key can never be mistaken for a log index.
//   - StoreLogs writes all entries in one Pebble batch committed with
//     pebble.Sync: one WAL fsync per call, whatever the number of entries.
//     StoreLog is StoreLogs with one entry. Set and SetUint64 (term, vote)
//     are also written with pebble.Sync, as is DeleteRange (one range
//     deletion in a batch; the log-compaction crash point of package
//     raft/crashpoint sits between building and committing it).
//   - Entries are encoded by hand (see encodeLog): a format byte, flags,
//     uvarint index, uvarint term, type byte, optional varint AppendedAt in
//     Unix nanoseconds, then length-prefixed Data and Extensions. No msgpack,
//     no reflection. Decoding copies Data and Extensions out of Pebble's
//     buffers before the value's closer is released, so a returned raft.Log
//     never aliases Pebble memory, and StoreLogs never retains the caller's
//     slices.
//   - Checks on read (verify.go): Pebble checks a block's CRC when it
//     reads it from disk; a failure is returned to the reader (not
//     Pebble's default Fatalf), wrapped with ErrCorrupt and the file's
//     path, as is an entry that does not decode. Verify reads the whole
//     log once (a node does at start).
//
// Contracts (each pinned by a test):
//
//   - GetLog of a missing index returns exactly raft.ErrLogNotFound.
//   - FirstIndex and LastIndex return 0 on an empty log.
//   - DeleteRange(min, max) is inclusive at both ends; max == math.MaxUint64
//     is handled without overflow; min > max is a no-op.
//   - Get of a missing stable key returns (nil, nil); GetUint64 returns
//     (0, nil). This follows the raft.StableStore documentation. Note that
//     raft-boltdb instead returns an error whose text is "not found";
//     hashicorp/raft accepts both forms. A key set to an empty value returns
//     a non-nil empty slice.
//   - Gaps in indexes are tolerated (the store does not implement
//     raft.MonotonicLogStore).
//
// What it is not:
//
//   - Not a state-machine store, not a snapshot store (use
//     raft.FileSnapshotStore or a Pebble-snapshot-based one), not a log cache
//     (wrap it in raft.NewLogCache if wanted).
//   - Not raft.CommitTrackingLogStore (the commit index is not persisted).
//   - Not a compressor: payload compression belongs to the producer of the
//     entries (see package raft/codec); Pebble's own block compression stays
//     at its default.
//   - Close must not race with other calls; after Close every method returns
//     ErrClosed.
package logstore
