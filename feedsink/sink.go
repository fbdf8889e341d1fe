package feedsink

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/accrual/accrual/client"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultBatch is how many changes one read takes when Config.Batch is 0.
const DefaultBatch = 1000

// Config is a sink: where the feed comes from, where it goes, where the
// cursor lives.
type Config struct {
	Feed       *client.Client // the node (any replica) whose feed is read
	Kafka      *kgo.Client    // built with kgo.RecordPartitioner(kgo.ManualPartitioner()): see Opts
	Topic      string
	CursorFile string
	Batch      int // changes per read and produce (0: DefaultBatch)
	// Stored, when set, is called after each cursor store with the new
	// cursor (for logs and tests).
	Stored func(cursor uint64)
}

// Opts are the kgo options the sink's Kafka client needs: records carry
// their partition (0), so the topic keeps the feed's order.
func Opts() []kgo.Opt {
	return []kgo.Opt{kgo.RecordPartitioner(kgo.ManualPartitioner())}
}

// Run publishes the feed from the stored cursor until ctx ends (it then
// returns ctx.Err()) or a read, produce or cursor store fails. Each batch's
// cursor is stored only after the broker acknowledged all its records.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	after, err := LoadCursor(cfg.CursorFile)
	if err != nil {
		return err
	}
	follow := false
	for {
		batch, err := read(ctx, cfg, after, follow)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return err
		}
		follow = len(batch) == 0 // caught up: hold a connection for the next change
		if follow {
			continue
		}
		err = cfg.Kafka.ProduceSync(ctx, batch...).FirstErr()
		if ctx.Err() != nil {
			return ctx.Err() // stopped: the cursor stays, the batch goes again on restart, as after a crash
		}
		if err != nil {
			return fmt.Errorf("feedsink: producing to %s: %w", cfg.Topic, err)
		}
		after = recordSeq(batch[len(batch)-1])
		if err := StoreCursor(cfg.CursorFile, after); err != nil {
			return err
		}
		if cfg.Stored != nil {
			cfg.Stored(after)
		}
	}
}

// read takes the changes after the cursor as records: up to cfg.Batch of
// those already in the ledger, or (follow) the next one to be applied.
func read(ctx context.Context, cfg Config, after uint64, follow bool) ([]*kgo.Record, error) {
	q := client.ChangesQuery{After: after, Limit: cfg.Batch}
	if follow {
		q = client.ChangesQuery{After: after, Limit: 1, Follow: true}
	}
	var batch []*kgo.Record
	err := cfg.Feed.Changes(ctx, q, func(ch *client.Change) error {
		line, err := json.Marshal(ch)
		if err != nil {
			return err
		}
		seq := []byte(strconv.FormatUint(ch.Seq, 10))
		batch = append(batch, &kgo.Record{Topic: cfg.Topic, Partition: 0, Key: seq, Value: line,
			Headers: []kgo.RecordHeader{{Key: "seq", Value: seq}}})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("feedsink: reading the feed after %d: %w", after, err)
	}
	return batch, nil
}

// recordSeq is the seq a record of read carries in its key.
func recordSeq(r *kgo.Record) uint64 {
	seq, _ := strconv.ParseUint(string(r.Key), 10, 64) // read wrote it
	return seq
}
