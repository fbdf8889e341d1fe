package raft

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/raft/codec"
	hraft "github.com/hashicorp/raft"
)

// entryIngest carries commands consumed from a stream (Kafka) together with
// the offsets they were consumed from:
//
//	uvarint range count, per range: uvarint len, topic, uvarint partition,
//	uvarint from, uvarint next; then the entryCommands body (empty when
//	every message of the ranges was invalid).
//
// The offsets travel in the same entry as the commands, so the replicated
// state holds the commands of a message if and only if it holds the offset
// after it: a consumer that resumes at the replicated offsets (after a
// crash, a leader change or a restart) applies no message twice and skips
// none, without relying on command ids.
const entryIngest byte = 5

// maxIngestRanges bounds the ranges one entry may carry (a corrupt entry
// cannot make the FSM allocate more).
const maxIngestRanges = 1 << 16

// IngestOffset is where the replicated state stands in one partition of a
// consumed topic: Next is the offset of the first message not applied.
type IngestOffset struct {
	Topic     string
	Partition int32
	Next      int64
}

// IngestRange is one partition's messages carried by an ingest entry: the
// offsets [From, Next). From must be where the replicated state stands in
// that partition (any From for a partition it has never seen).
type IngestRange struct {
	Topic     string
	Partition int32
	From      int64
	Next      int64
}

// ErrIngestStale: an ingest entry did not start where the replicated
// offsets stand (a proposer behind the applied state, such as a consumer
// that lost leadership). Nothing of the entry was applied; the consumer
// seeks to IngestOffsets and goes on.
var ErrIngestStale = errors.New("raft: the ingest entry does not start at the replicated offsets; nothing was applied")

type partitionKey struct {
	topic     string
	partition int32
}

// SubmitIngest proposes consumed commands with the offsets they came from
// as one Raft entry and returns their results as NDJSON, one line per
// command, once the entry is applied. cmds may be empty (messages that were
// all invalid still move their partitions on). Errors: those of Submit
// (except ErrOverloaded: the entry does not queue behind the batcher) and
// ErrIngestStale. The caller keeps an entry within MaxBatchCommands.
func (n *Node) SubmitIngest(ctx context.Context, cmds []engine.Command, ranges []IngestRange) ([]byte, error) {
	if len(ranges) == 0 || len(ranges) > maxIngestRanges {
		return nil, fmt.Errorf("raft: an ingest entry carries 1 to %d ranges, not %d", maxIngestRanges, len(ranges))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p := n.fsm.fatal.Load(); p != nil {
		return nil, *p
	}
	if n.raft.State() != hraft.Leader {
		return nil, n.notLeader()
	}
	if err := n.disk.admit(); err != nil {
		return nil, err
	}
	f := n.raft.Apply(encodeIngest(ranges, cmds), n.cfg.ApplyTimeout)
	if err := n.futureError(f); err != nil {
		return nil, n.mapErr(err)
	}
	resp, _ := f.Response().(*entryResponse)
	switch {
	case resp == nil:
		return nil, ErrUnknownOutcome // applied after this node stepped down
	case resp.err != nil:
		return nil, resp.err
	}
	return resp.ndjson, nil
}

// IngestOffsets returns the replicated offsets of every partition ever
// consumed, as of AppliedIndex, sorted by topic and partition.
func (n *Node) IngestOffsets() []IngestOffset {
	f := n.fsm
	f.offsetsMu.RLock()
	out := make([]IngestOffset, 0, len(f.offsets))
	for k, next := range f.offsets {
		out = append(out, IngestOffset{Topic: k.topic, Partition: k.partition, Next: next})
	}
	f.offsetsMu.RUnlock()
	sortOffsets(out)
	return out
}

func sortOffsets(o []IngestOffset) {
	slices.SortFunc(o, func(a, b IngestOffset) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
}

func encodeIngest(ranges []IngestRange, cmds []engine.Command) []byte {
	b := []byte{entryIngest}
	b = binary.AppendUvarint(b, uint64(len(ranges)))
	for _, r := range ranges {
		b = binary.AppendUvarint(b, uint64(len(r.Topic)))
		b = append(b, r.Topic...)
		b = binary.AppendUvarint(b, uint64(r.Partition))
		b = binary.AppendUvarint(b, uint64(r.From))
		b = binary.AppendUvarint(b, uint64(r.Next))
	}
	if len(cmds) == 0 {
		return b
	}
	payload := binary.AppendUvarint(nil, uint64(len(cmds)))
	for i := range cmds {
		payload = engine.AppendBinary(payload, &cmds[i])
	}
	return codec.Compress(b, payload)
}

// decodeIngest splits an ingest entry (after its kind byte) into its
// ranges and its entryCommands body.
func decodeIngest(b []byte, ranges []IngestRange) ([]IngestRange, []byte, error) {
	count, n := binary.Uvarint(b)
	if n <= 0 || count == 0 || count > maxIngestRanges {
		return ranges, nil, errors.New("raft: decode ingest entry: bad range count")
	}
	b = b[n:]
	for range count {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return ranges, nil, errors.New("raft: decode ingest entry: truncated topic")
		}
		r := IngestRange{Topic: string(b[n : n+int(l)])}
		b = b[n+int(l):]
		var v [3]uint64
		for i := range v {
			if v[i], n = binary.Uvarint(b); n <= 0 {
				return ranges, nil, errors.New("raft: decode ingest entry: truncated range")
			}
			b = b[n:]
		}
		r.Partition, r.From, r.Next = int32(v[0]), int64(v[1]), int64(v[2])
		if r.Next < r.From {
			return ranges, nil, errors.New("raft: decode ingest entry: a range ends before it starts")
		}
		ranges = append(ranges, r)
	}
	return ranges, b, nil
}

// applyIngest applies an ingest entry: only when every range starts where
// the replicated offsets stand, and then the commands (through
// applyCommands, the one command path) and the new offsets together.
// Every replica decides the same, so a stale entry is skipped everywhere.
func (f *fsm) applyIngest(index uint64, data []byte, render, emit bool) *entryResponse {
	ranges, body, err := decodeIngest(data, f.ranges[:0])
	f.ranges = ranges
	if err != nil {
		return &entryResponse{err: err}
	}
	f.offsetsMu.RLock()
	for _, r := range ranges {
		next, seen := f.offsets[partitionKey{r.Topic, r.Partition}]
		if seen && next != r.From {
			err = ErrIngestStale
		}
	}
	f.offsetsMu.RUnlock()
	if err != nil {
		return &entryResponse{err: err}
	}
	resp := &entryResponse{}
	if len(body) > 0 {
		if resp = f.applyCommands(index, body, render, emit); resp.err != nil {
			return resp
		}
	}
	f.offsetsMu.Lock()
	for _, r := range ranges {
		f.offsets[partitionKey{r.Topic, r.Partition}] = r.Next
	}
	f.offsetsMu.Unlock()
	return resp
}

// appendOffsets is the snapshot's offsets section: uvarint count, then per
// partition uvarint len, topic, uvarint partition, uvarint next.
func (f *fsm) appendOffsets(b []byte) []byte {
	f.offsetsMu.RLock()
	defer f.offsetsMu.RUnlock()
	b = binary.AppendUvarint(b, uint64(len(f.offsets)))
	for k, next := range f.offsets {
		b = binary.AppendUvarint(b, uint64(len(k.topic)))
		b = append(b, k.topic...)
		b = binary.AppendUvarint(b, uint64(k.partition))
		b = binary.AppendUvarint(b, uint64(next))
	}
	return b
}

// readOffsets reads a snapshot's offsets section.
func readOffsets(br *bufio.Reader) (map[partitionKey]int64, error) {
	count, err := binary.ReadUvarint(br)
	if err != nil || count > 1<<24 {
		return nil, fmt.Errorf("raft: snapshot: bad offset count (%v)", err)
	}
	offsets := make(map[partitionKey]int64, count)
	for range count {
		l, err := binary.ReadUvarint(br)
		if err != nil || l > 1<<16 {
			return nil, fmt.Errorf("raft: snapshot: bad offset topic (%v)", err)
		}
		topic := make([]byte, l)
		if _, err := io.ReadFull(br, topic); err != nil {
			return nil, fmt.Errorf("raft: snapshot: %w", err)
		}
		var v [2]uint64
		for i := range v {
			if v[i], err = binary.ReadUvarint(br); err != nil {
				return nil, fmt.Errorf("raft: snapshot: bad offset (%v)", err)
			}
		}
		offsets[partitionKey{string(topic), int32(v[0])}] = int64(v[1])
	}
	return offsets, nil
}
