// Package feedsink publishes the change feed (GET /v1/changes) to a Kafka
// topic, at least once (`accrual feed --from URL --to kafka://…`).
//
// The sink reads a batch of changes after its cursor, produces them (one
// record per feed line, key and header "seq" the line's seq), waits for
// every ack, and only then stores the cursor durably (cursor.go: temp file,
// fsync, rename, fsync of the directory). A crash between the acks and the
// cursor's store publishes that batch again on restart: consumers drop a
// seq they have seen. A crash before the acks loses nothing, since the
// cursor still names the last seq acknowledged. So the topic holds every
// seq at least once and none is skipped.
//
// Every record goes to partition 0, so the topic holds the feed in seq
// order (a re-published batch repeats a run of seqs after its first copy).
// When the feed has nothing after the cursor the sink follows it (a held
// connection) for the next change instead of polling.
package feedsink
