package feedsink_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/accrual/accrual/api"
	"github.com/accrual/accrual/api/apitest"
	"github.com/accrual/accrual/client"
	"github.com/accrual/accrual/feedsink"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	topic   = "accrual-changes"
	key     = "operator-key-0123456789"
	program = `
program: t
unit: points
currency: EUR
earn:
  rate: {points: 1, per: 100}
expiry: {mode: lot, days: 365}
tiers:
  metric: spend
  levels:
    - {name: card, threshold: 0, multiplier_bp: 10000, discount_bp: 250, perks: [coffee]}
partners:
  - {id: shop}
`
)

// TestSinkResumesWithoutGap: a sink killed mid-way (at a moment the topic
// decides, not at a batch's end) and restarted from its cursor file leaves
// every seq in the topic at least once, in order: a record's seq is never
// past the highest before it plus one, so a restart may repeat a run but
// never skips one. The restarted sink also follows changes applied later.
func TestSinkResumesWithoutGap(t *testing.T) {
	mem, feed := serveFeed(t)
	buy(t, feed, 0, 60)
	broker, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic))
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	cursor := filepath.Join(t.TempDir(), "cursor")

	ctx, cancel := context.WithCancel(context.Background())
	kill := killAt{seq: 25, cancel: cancel} // mid-batch: batches of 7 end at 21 and 28
	if err := runSink(ctx, t, broker, feed, cursor, nil, kgo.WithHooks(kill)); !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v, want context.Canceled", err)
	}
	first, err := feedsink.LoadCursor(cursor)
	if err != nil || first != 21 {
		t.Fatalf("after the first run the cursor is %d, %v: want 21, the end of the batch before the kill's", first, err)
	}

	buy(t, feed, 60, 80) // applied while no sink runs
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	stored := make(chan uint64, 100)
	done := make(chan error, 1)
	go func() { done <- runSink(ctx, t, broker, feed, cursor, func(c uint64) { stored <- c }) }()
	waitCursor(t, mem, stored)
	buy(t, feed, 80, 90) // applied while the restarted sink follows the feed
	waitCursor(t, mem, stored)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("second run: %v, want context.Canceled", err)
	}

	lastSeq, _ := mem.LastSeq(context.Background())
	seqs := topicSeqs(t, broker, int(lastSeq))
	var high uint64
	for i, seq := range seqs {
		if seq > high+1 {
			t.Fatalf("record %d holds seq %d after seqs up to %d: a gap", i, seq, high)
		}
		high = max(high, seq)
	}
	if high != lastSeq {
		t.Fatalf("the topic's records reach seq %d, the feed %d", high, lastSeq)
	}
	t.Logf("%d seqs in %d records, the first run stopped at cursor %d", lastSeq, len(seqs), first)
}

// waitCursor waits for the sink to store the feed's last seq as its cursor.
func waitCursor(t *testing.T, mem *apitest.Mem, stored <-chan uint64) {
	t.Helper()
	last, err := mem.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	timeout := time.After(5 * time.Second)
	for {
		select {
		case c := <-stored:
			if c >= last {
				return
			}
		case <-timeout:
			t.Fatalf("the sink did not reach seq %d", last)
		}
	}
}

// serveFeed is an in-memory node serving the API (and so the feed).
func serveFeed(t *testing.T) (*apitest.Mem, *client.Client) {
	t.Helper()
	mem := apitest.New(apitest.MustProgram(program), true)
	keys, err := api.NewKeys([]api.Key{{Key: key, Role: "operator"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := api.New(api.Config{Addr: "127.0.0.1:0", Backend: mem, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.ListenAndServe()
	t.Cleanup(func() { s.Shutdown() })
	return mem, client.New("http://"+s.Addr(), key)
}

// buy applies purchases from to to-1 (one ledger entry or more each).
func buy(t *testing.T, c *client.Client, from, to int) {
	for i := from; i < to; i++ {
		cmd := fmt.Sprintf(`{"type":"purchase","id":"p%d","member":"M%d","partner":"shop","amount":10000}`, i, i%3)
		if _, err := c.Submit(context.Background(), []json.RawMessage{json.RawMessage(cmd)}); err != nil {
			t.Error(err) // also called from a goroutine: no Fatal
		}
	}
}

// killAt ends the sink's context as soon as the broker acknowledged the
// record of seq: the sink dies between a record's ack and its batch's
// cursor store, the crash that publishes records twice.
type killAt struct {
	seq    uint64
	cancel context.CancelFunc
}

func (k killAt) OnProduceRecordUnbuffered(r *kgo.Record, err error) {
	if seq, _ := strconv.ParseUint(string(r.Key), 10, 64); err == nil && seq == k.seq {
		k.cancel()
	}
}

func runSink(ctx context.Context, t *testing.T, broker *kfake.Cluster, feed *client.Client, cursor string, stored func(uint64), opts ...kgo.Opt) error {
	opts = append(opts, feedsink.Opts()...)
	kc, err := kgo.NewClient(append(opts, kgo.SeedBrokers(broker.ListenAddrs()...))...)
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	return feedsink.Run(ctx, feedsink.Config{Feed: feed, Kafka: kc, Topic: topic, CursorFile: cursor, Batch: 7, Stored: stored})
}

// topicSeqs reads the topic whole: the seq (key) of each record, in order.
func topicSeqs(t *testing.T, broker *kfake.Cluster, want int) []uint64 {
	kc, err := kgo.NewClient(kgo.SeedBrokers(broker.ListenAddrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Error(err)
		return nil
	}
	defer kc.Close()
	var seqs []uint64
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	for ctx.Err() == nil && (want == 0 || len(seqs) < want) {
		kc.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			seq, _ := strconv.ParseUint(string(r.Key), 10, 64)
			seqs = append(seqs, seq)
		})
	}
	return seqs
}
