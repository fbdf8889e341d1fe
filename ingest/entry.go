package ingest

import (
	"bytes"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/raft"
	"github.com/twmb/franz-go/pkg/kgo"
)

// futureSkewMS is how far ahead of the leader's clock a command's `at` may
// be, as on /v1/stream (api's futureSkewMS).
const futureSkewMS = 5 * 60 * 1000

// entry gathers consumed messages into one ingest entry: the valid
// commands, the offset range of every partition it covers, and a result
// slot per command line (invalid ones answered here, the others from the
// node's results).
type entry struct {
	dec    engine.Decoder
	cmds   []engine.Command
	ranges []raft.IngestRange
	msgs   []message
	res    [][]byte // one per command line, in message order
	valid  []int32  // res index of each command in cmds
	errBuf []byte
}

// message is one consumed record and its command lines res[first:first+count].
type message struct {
	rec          *kgo.Record
	first, count int
}

func (e *entry) reset() {
	e.dec.Reset()
	e.cmds, e.ranges, e.msgs = e.cmds[:0], e.ranges[:0], e.msgs[:0]
	e.res, e.valid, e.errBuf = e.res[:0], e.valid[:0], e.errBuf[:0]
}

// add takes one record: its lines are commands (one command or an NDJSON
// run); lines that do not decode, whose `at` is too far ahead, or that are
// quotes (a read; it has no place on a write stream) get an error result
// and are not applied. A missing `at` is the leader's clock, as on
// /v1/stream. next holds where each partition stands; add moves it past
// the record.
func (e *entry) add(rec *kgo.Record, next map[partitionKey]int64, nowMS int64) {
	k := partitionKey{rec.Topic, rec.Partition}
	from, seen := next[k]
	if !seen {
		from = rec.Offset // a partition never consumed starts at its first record
	}
	e.extend(k, from, rec.Offset+1)
	next[k] = rec.Offset + 1
	m := message{rec: rec, first: len(e.res)}
	for line := range bytes.SplitSeq(rec.Value, []byte("\n")) {
		if line = bytes.TrimSpace(line); len(line) > 0 {
			e.addLine(line, nowMS)
		}
	}
	if len(e.res) == m.first { // an empty message: one invalid result
		e.answer(nil, engine.ErrInvalid)
	}
	m.count = len(e.res) - m.first
	e.msgs = append(e.msgs, m)
}

// extend moves the range of partition k to end at next, starting one at
// from when the entry has none for it yet.
func (e *entry) extend(k partitionKey, from, next int64) {
	for i := range e.ranges {
		if r := &e.ranges[i]; r.Topic == k.topic && r.Partition == k.partition {
			r.Next = next
			return
		}
	}
	e.ranges = append(e.ranges, raft.IngestRange{Topic: k.topic, Partition: k.partition, From: from, Next: next})
}

func (e *entry) addLine(line []byte, nowMS int64) {
	e.cmds = append(e.cmds, engine.Command{})
	c := &e.cmds[len(e.cmds)-1]
	e.dec.Decode(line, c)
	switch {
	case c.Invalid || c.Type == engine.TypeQuote:
		e.reject(engine.ErrInvalid)
		return
	case !c.HasAt():
		c.SetAt(nowMS)
	case c.AtMS > nowMS+futureSkewMS:
		e.reject(engine.ErrAtInFuture)
		return
	}
	e.valid = append(e.valid, int32(len(e.res)))
	e.res = append(e.res, nil)
}

// reject answers the last decoded command with code and drops it.
func (e *entry) reject(code engine.ErrorCode) {
	last := len(e.cmds) - 1
	e.answer(e.cmds[last].ID, code)
	e.cmds = e.cmds[:last]
}

// answer appends a result slot holding an error result, written exactly
// as the engine and /v1/stream write one.
func (e *entry) answer(id []byte, code engine.ErrorCode) {
	off := len(e.errBuf)
	e.errBuf = append(e.errBuf, `{"id":`...)
	e.errBuf = engine.AppendJSONString(e.errBuf, id)
	e.errBuf = append(e.errBuf, `,"status":"error","error":"`...)
	e.errBuf = append(e.errBuf, code.String()...)
	e.errBuf = append(e.errBuf, `"}`...)
	e.res = append(e.res, e.errBuf[off:len(e.errBuf):len(e.errBuf)])
}

// fill puts the node's NDJSON results (one line per command of e.cmds, in
// order) into their slots; false when their count is wrong.
func (e *entry) fill(ndjson []byte) bool {
	i := 0
	for line := range bytes.SplitSeq(bytes.TrimSuffix(ndjson, []byte("\n")), []byte("\n")) {
		if len(ndjson) == 0 {
			break
		}
		if i >= len(e.valid) {
			return false
		}
		e.res[e.valid[i]] = line
		i++
	}
	return i == len(e.valid)
}

// results appends the result lines of message m, each ending in '\n'.
func (e *entry) results(dst []byte, m message) []byte {
	for _, r := range e.res[m.first : m.first+m.count] {
		dst = append(dst, r...)
		dst = append(dst, '\n')
	}
	return dst
}
