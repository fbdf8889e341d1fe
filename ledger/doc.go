// Package ledger is Accrual's append-only double-entry ledger, stored in
// Pebble (SPEC §7).
//
// What it is: a store of ledger entries {seq, at, command id, kind, debit,
// credit, points}. The engine hands it the entries of one applied batch
// together with the position (Raft index or replay line) the batch brings the
// state machine to; Append writes both, plus a hash-chain link, as ONE Pebble
// batch, so after a crash the store holds whole batches only and Position()
// tells the caller where to resume re-applying. It answers the queries the
// service needs (member statements, point-in-time balances, the entries of a
// command, partner settlement, the change feed: entries after a seq with
// their members' balances after each) and verifies itself (Verify / VerifyDir:
// hash chain, double entry, zero sum, running balances, indexes).
//
// The same Pebble DB also holds the engine's command records (one per
// command id ever seen, SPEC §6; the engine keeps only a window of recent
// ones in memory). AppendWithRecords writes a batch's records with its
// entries, position and chain link in the one Pebble batch, so a crash
// leaves records, entries and position consistent: the records of exactly
// the batches up to Position(). Records are opaque values here (the engine
// owns their encoding); Record and RecordReader read them, with bloom
// filters on every level so that the common look-up, a new id, is cheap.
// Export/Import ship them with the entries; PutRecords rewrites records
// without moving the position (a caller re-applying what it holds);
// Verify counts them.
//
// What it is not: it does not compute points, apply program rules, mature or
// expire lots, or decide whether a command is accepted — that is the engine's
// job. It trusts the engine for the meaning of entries and checks only their
// form (points > 0, accounts well formed, debit != credit) and the continuity
// of sequence numbers and positions. It imports no other package of this
// project.
//
// On-disk layout (one-byte key prefixes, big-endian numbers so that keys sort
// numerically):
//
//	M                          meta: position, last seq, next owner id, last batch hash
//	p <pos:8>                  batch record: first seq, count, hash (chain link)
//	e <firstSeq:8>             a block of up to 64 entries (compact varint encoding)
//	x <member:4> <seq:8>       member index: at, running max at, running balances
//	c <command id> 0x00 <seq:8> command index: a run of consecutive entries of a command
//	d <day:8> <blockSeq:8>     day index: blocks holding entries dated on a UTC day
//	a <account:8>              balance of a partner or operator account
//	o <ns:1> <name>            owner name -> owner id (uint32)
//	i <id:4>                   owner id -> ns + name
//	r <command id>             command record (the engine's encoding, opaque here)
//
// Owners (member and partner ids) are interned to dense uint32 ids persisted
// in the same batch that first uses them; an account is encoded as
// id<<3 | (kind-1). Member running balances live in the member index, so a
// balance "as of seq" is one seek and "as of time" walks back only over the
// entries dated after it.
//
// In memory, Append keeps every owner's name and id (up to
// Options.OwnerCacheSize, so a new owner needs no lookup in Pebble) and every
// member's running balances, which the next member index key continues;
// both sit in owners.go's pointer-free tables (about 70 B a member plus its
// name), because a coalition's ledger holds tens of millions of members and a
// map per owner cost more, and a garbage collector that scanned them all.
package ledger
