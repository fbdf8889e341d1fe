package ingest

import (
	"cmp"
	"slices"
)

// Partition is where ingest stands in one partition.
type Partition struct {
	Topic     string
	Partition int32
	// Next is the replicated offset: the first message not applied (-1:
	// none applied yet).
	Next int64
	// HighWatermark is the partition's end as of this leader's last fetch,
	// Lag = HighWatermark - Next; both -1 when unknown (on a follower, or
	// before the first fetch).
	HighWatermark int64
	Lag           int64
}

// Partitions returns every partition the replicated state has offsets of,
// and those this leader fetched, sorted by topic and partition.
func (c *Consumer) Partitions() []Partition { return partitions(c.node, c) }

// Partitions of a node that consumes nothing itself: the replicated
// offsets, without lag.
func Partitions(n Node) []Partition { return partitions(n, nil) }

func partitions(n Node, c *Consumer) []Partition {
	byKey := map[partitionKey]int{}
	var out []Partition
	for _, o := range n.IngestOffsets() {
		byKey[partitionKey{o.Topic, o.Partition}] = len(out)
		out = append(out, Partition{Topic: o.Topic, Partition: o.Partition, Next: o.Next, HighWatermark: -1, Lag: -1})
	}
	if c != nil && c.leading.Load() {
		c.mu.Lock()
		for k, hwm := range c.hwm {
			i, ok := byKey[k]
			if !ok { // fetched, nothing applied yet
				out = append(out, Partition{Topic: k.topic, Partition: k.partition, Next: -1, HighWatermark: hwm, Lag: -1})
				continue
			}
			out[i].HighWatermark, out[i].Lag = hwm, max(0, hwm-out[i].Next)
		}
		c.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b Partition) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return out
}
