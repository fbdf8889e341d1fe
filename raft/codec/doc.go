// Package codec compresses Raft entry payloads (one batch of 1-4k loyalty
// commands per entry) with klauspost/compress.
//
// Format: one header byte followed by the payload.
//
//	0 = Raw   the payload is the input itself
//	1 = S2    an s2 block (length-prefixed, no CRC)
//	2 = Zstd  one zstd frame, always with its content size, with checksum
//
// The header values are part of the stored log format and must never be
// renumbered. Compress keeps the compressed form only if it is strictly
// smaller than the input; inputs under 32 bytes and incompressible inputs
// are stored Raw, so the encoded size is at most len(src)+1.
//
// Decompress takes a cap on the decoded size and rejects larger payloads
// with ErrTooLarge before allocating them: the s2 length prefix and the zstd
// frame content size are checked first, then zstd decoding is limited to the
// capacity handed to it (WithDecodeAllCapLimit), so a frame that lies about
// its size or is followed by more frames fails instead of growing. The
// shared zstd decoder runs with concurrency 1 and memory/window capped at
// MaxDecodedSize (64 MiB); caps above that are clamped to it. zstd frames
// without a content size are rejected (Compress never produces them).
//
// Both functions append to dst (pass buf[:0] to reuse a buffer) and never
// retain src or dst. One zstd encoder (SpeedFastest, single segment) is shared
// by all callers through EncodeAll.
//
// # Choice of DefaultAlgo: S2
//
// Measured on this project's 2-core box (AMD EPYC, Go 1.26; details and
// commands in raft/logstore/BENCH_NOTES.md), on generated but realistic
// batches: NDJSON commands of ~147 bytes each and the compact binary record
// form (~47 bytes each), 1,000 and 4,000 commands per batch:
//
//	                     s2 compress  zstd-fastest   s2 ratio  zstd ratio
//	NDJSON, 1k/4k        ~370-550 MB/s  ~100-145 MB/s   4.6x       7.5-7.7x
//	binary, 1k/4k        ~260-380 MB/s   ~50-85 MB/s    1.7x       2.7x
//	decompress           ~1.0-1.8 GB/s  ~0.35-0.6 GB/s
//
// Per command that is ~0.3 µs (s2) against ~1.0-1.4 µs (zstd) for NDJSON
// and ~0.15 µs against ~0.6-0.9 µs for the binary form. At the target of
// 10^6 commands/s on two cores, zstd alone would need one to one and a half
// cores on the leader, plus decompression on every apply; s2 needs a third
// of a core or less. What zstd saves (NDJSON: ~19 instead of ~32 bytes per
// command, i.e. ~19 vs ~32 MB/s at 10^6/s) is far below what the disk
// (~300 MB/s with fdatasync) and loopback/LAN replication can carry. This
// engine is CPU-bound, not byte-bound, so S2 is the default. Zstd stays
// available through CompressWith for byte-bound paths (WAN replication,
// cold archives); Raft snapshots should use streaming zstd, not this
// package.
//
// The binary form already halves NDJSON's compressed size under s2 (27 vs 32
// bytes per command) at a third of the bytes to compress, so encoding
// commands compactly before compression matters more than the choice of
// compressor.
package codec
