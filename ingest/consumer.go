package ingest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/raft"
	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Node is what the consumer needs of the Raft node (*raft.Node).
type Node interface {
	IsLeader() bool
	IngestOffsets() []raft.IngestOffset
	SubmitIngest(ctx context.Context, cmds []engine.Command, ranges []raft.IngestRange) ([]byte, error)
}

// Config of a Consumer.
type Config struct {
	Brokers      []string  // HOST:PORT of the seed brokers
	Topics       []string  // every partition of each is consumed
	ResultsTopic string    // "": results are not produced
	Opts         []kgo.Opt // security and tuning (Security.Opts)
	Logger       hclog.Logger
	Now          func() time.Time // the leader's clock: fills a missing `at`
	// MaxEntryCommands cuts an entry once it holds this many commands (at
	// a message boundary: a message is never split). 0: 4096, the node's
	// default MaxBatchCommands.
	MaxEntryCommands int
}

const (
	defaultMaxEntryCommands = 4096
	pollWait                = 250 * time.Millisecond // leadership is checked between polls
	retryWait               = 500 * time.Millisecond // after a failed term, before the next
	flushWait               = 5 * time.Second        // for the results of a term that ends
)

type partitionKey struct {
	topic     string
	partition int32
}

// Consumer consumes command topics into a Raft node while the node leads.
type Consumer struct {
	cfg  Config
	node Node
	log  hclog.Logger

	leading atomic.Bool
	mu      sync.Mutex
	hwm     map[partitionKey]int64 // high watermarks seen by this leader's fetches
}

// New checks cfg; Run starts consuming.
func New(cfg Config, node Node) (*Consumer, error) {
	if len(cfg.Brokers) == 0 || len(cfg.Topics) == 0 {
		return nil, errors.New("ingest: brokers and topics must both be given (--kafka-brokers, --kafka-topics)")
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxEntryCommands <= 0 {
		cfg.MaxEntryCommands = defaultMaxEntryCommands
	}
	return &Consumer{cfg: cfg, node: node, log: cfg.Logger, hwm: map[partitionKey]int64{}}, nil
}

// Run consumes while the node leads, until ctx is done. Each time the
// node becomes leader (and has applied every entry of earlier terms) the
// consumer seeks every partition to the replicated offsets; it stops
// when the node loses leadership or an entry fails, and seeks again.
func (c *Consumer) Run(ctx context.Context) {
	for ctx.Err() == nil {
		if !c.node.IsLeader() {
			sleep(ctx, 50*time.Millisecond)
			continue
		}
		err := c.lead(ctx)
		c.leading.Store(false)
		if err != nil && ctx.Err() == nil {
			c.log.Warn("kafka ingest stopped; seeking to the replicated offsets again", "err", err)
			sleep(ctx, retryWait)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// lead is one leadership term of consuming.
func (c *Consumer) lead(ctx context.Context) error {
	next := map[partitionKey]int64{}
	for _, o := range c.node.IngestOffsets() {
		next[partitionKey{o.Topic, o.Partition}] = o.Next
	}
	opts := append([]kgo.Opt{kgo.SeedBrokers(c.cfg.Brokers...), kgo.FetchIsolationLevel(kgo.ReadCommitted())}, c.cfg.Opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer c.closeClient(cl)
	start, err := c.startOffsets(ctx, cl, next)
	if err != nil {
		return err
	}
	cl.AddConsumePartitions(start)
	c.mu.Lock()
	clear(c.hwm)
	c.mu.Unlock()
	c.leading.Store(true)
	var e entry
	for ctx.Err() == nil && c.node.IsLeader() {
		pctx, cancel := context.WithTimeout(ctx, pollWait)
		fetches := cl.PollRecords(pctx, c.cfg.MaxEntryCommands)
		cancel()
		if err := c.noteFetches(fetches); err != nil {
			return err
		}
		recs := fetches.Records()
		for len(recs) > 0 {
			e.reset()
			nowMS := c.cfg.Now().UnixMilli()
			for len(recs) > 0 && len(e.cmds) < c.cfg.MaxEntryCommands {
				e.add(recs[0], next, nowMS)
				recs = recs[1:]
			}
			if err := c.submit(ctx, cl, &e); err != nil {
				return err
			}
		}
	}
	return nil
}

// closeClient lets the results of the term reach the broker, for a while,
// then closes the client.
func (c *Consumer) closeClient(cl *kgo.Client) {
	if c.cfg.ResultsTopic != "" {
		ctx, cancel := context.WithTimeout(context.Background(), flushWait)
		if err := cl.Flush(ctx); err != nil {
			c.log.Warn("results not flushed", "err", err)
		}
		cancel()
	}
	cl.Close()
}

// startOffsets is where each partition of the topics starts: at the
// replicated offset, or at its first record when never consumed.
func (c *Consumer) startOffsets(ctx context.Context, cl *kgo.Client, next map[partitionKey]int64) (map[string]map[int32]kgo.Offset, error) {
	req := kmsg.NewPtrMetadataRequest()
	for _, t := range c.cfg.Topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("kafka metadata: %w", err)
	}
	start := map[string]map[int32]kgo.Offset{}
	for _, t := range resp.Topics {
		name := ""
		if t.Topic != nil {
			name = *t.Topic
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return nil, fmt.Errorf("kafka topic %q: %w", name, err)
		}
		start[name] = map[int32]kgo.Offset{}
		for _, p := range t.Partitions {
			o := kgo.NewOffset().AtStart()
			if n, ok := next[partitionKey{name, p.Partition}]; ok {
				o = kgo.NewOffset().At(n)
			}
			start[name][p.Partition] = o
		}
	}
	return start, nil
}

// noteFetches keeps the high watermarks and fails on a fetch error other
// than the poll's own timeout.
func (c *Consumer) noteFetches(f kgo.Fetches) error {
	c.mu.Lock()
	f.EachPartition(func(p kgo.FetchTopicPartition) {
		if p.Err == nil {
			c.hwm[partitionKey{p.Topic, p.Partition}] = p.HighWatermark
		}
	})
	c.mu.Unlock()
	for _, fe := range f.Errors() {
		if errors.Is(fe.Err, context.DeadlineExceeded) || errors.Is(fe.Err, context.Canceled) {
			continue
		}
		return fmt.Errorf("kafka fetch %s/%d: %w", fe.Topic, fe.Partition, fe.Err)
	}
	return nil
}

// submit proposes the entry and produces its results.
func (c *Consumer) submit(ctx context.Context, cl *kgo.Client, e *entry) error {
	out, err := c.node.SubmitIngest(ctx, e.cmds, e.ranges)
	if err != nil {
		return err
	}
	if !e.fill(out) {
		return fmt.Errorf("ingest: the node answered a wrong number of result lines for %d commands", len(e.cmds))
	}
	if c.cfg.ResultsTopic == "" {
		return nil
	}
	for _, r := range resultRecords(e, c.cfg.ResultsTopic) {
		// Not the term's ctx: a result of an applied entry is produced
		// (or flushed in closeClient) even as the term ends.
		cl.Produce(context.Background(), r, c.produced)
	}
	return nil
}

// resultRecords is one results record per message of the entry. The
// records, their headers, values and sources are cut from a few slabs
// allocated per entry, not per message: franz-go holds each record until
// it is produced, and nothing here touches a slab again.
func resultRecords(e *entry, topic string) []*kgo.Record {
	size := 0
	for _, m := range e.msgs {
		size += len(m.rec.Topic) + 2*maxDigits + 2 // the source: topic/partition/offset
		for _, r := range e.res[m.first : m.first+m.count] {
			size += len(r) + 1
		}
	}
	buf := make([]byte, 0, size)
	recs := make([]kgo.Record, len(e.msgs))
	hdrs := make([]kgo.RecordHeader, len(e.msgs))
	out := make([]*kgo.Record, len(e.msgs))
	for i, m := range e.msgs {
		off := len(buf)
		buf = e.results(buf, m)
		value := buf[off:len(buf):len(buf)]
		off = len(buf)
		buf = appendSource(buf, m.rec)
		hdrs[i] = kgo.RecordHeader{Key: "source", Value: buf[off:len(buf):len(buf)]}
		recs[i] = kgo.Record{Topic: topic, Key: m.rec.Key, Value: value, Headers: hdrs[i : i+1 : i+1]}
		out[i] = &recs[i]
	}
	return out
}

// maxDigits is the longest decimal int64.
const maxDigits = 20

// appendSource names the consumed message a result record answers:
// topic/partition/offset.
func appendSource(b []byte, r *kgo.Record) []byte {
	b = append(append(b, r.Topic...), '/')
	b = strconv.AppendInt(b, int64(r.Partition), 10)
	b = append(b, '/')
	return strconv.AppendInt(b, r.Offset, 10)
}

func (c *Consumer) produced(r *kgo.Record, err error) {
	if err != nil {
		c.log.Warn("a result was not produced", "topic", r.Topic, "source", string(r.Headers[0].Value), "err", err)
	}
}
