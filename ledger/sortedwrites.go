package ledger

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// sortedWrites collects the key/value pairs of one append and hands them to
// a Pebble batch in ascending key order.
//
// Why: Pebble applies a batch to its memtable with one skiplist Inserter
// that keeps the splice (the nodes around the last key, per level) and
// starts the next search from it when the next key lies after it. Keys in
// ascending order are found a few nodes from the last insert; keys in the
// order an append builds them (member index keys in member order, command
// keys in command order, interleaved) each search from the top of a skiplist
// of up to 64 MiB, and that search's cache misses were most of an append's
// CPU (arenaskl.findSplice).
//
// Only the order of the Sets changes: the keys and values, and so the
// store's contents, are the ones the append built. Two Sets of one key keep
// their call order, so the last one still wins, as it did in the batch.
//
// Sorting is cheap because most of it is already done: the Sets are kept
// in one group per key prefix (byte), written in prefix order, and a group
// whose Sets came in ascending order (blocks, owner ids, batch records, and
// the member index keys the append makes member by member) is written as it
// came. Only a group that came out of order is sorted.
//
// The buffers are the ledger's scratch (appendMu held), reused by every
// append: nothing is allocated per entry.
type sortedWrites struct {
	buf     []byte          // keys and values back to back, in call order
	groups  [256]writeGroup // by the key's first byte
	pending kvOp            // the Set alloc reserved, until finish
}

// writeGroup is the Sets of one key prefix, in call order until sorted.
type writeGroup struct {
	ops      []kvOp
	unsorted bool // a Set came with a key below the one before it
}

// kvOp locates one Set in buf: its key at buf[off:off+klen], its value
// right after it.
type kvOp struct {
	head       uint64 // the key's first 8 bytes, big-endian, zero-padded: most comparisons end here
	off        int
	klen, vlen int
}

// maxRetainedWriteBytes bounds the buffer kept between appends: a batch of
// large records may grow it far beyond what the usual append needs.
const maxRetainedWriteBytes = 16 << 20

func (w *sortedWrites) reset() {
	if cap(w.buf) > maxRetainedWriteBytes {
		w.buf = nil
	}
	w.buf = w.buf[:0]
	for i := range w.groups {
		w.groups[i].ops, w.groups[i].unsorted = w.groups[i].ops[:0], false
	}
}

// set records a Set of key to value (both copied). The key must not be
// empty.
func (w *sortedWrites) set(key, value []byte) {
	k, v := w.alloc(len(key), len(value))
	copy(k, key)
	copy(v, value)
	w.finish()
}

// alloc reserves a Set of a key (klen >= 1) and value of the given lengths
// and returns them to be filled in, then finish must be called: the slices
// are valid only until the next alloc.
func (w *sortedWrites) alloc(klen, vlen int) (key, value []byte) {
	off := len(w.buf)
	w.buf = slices.Grow(w.buf, klen+vlen)[:off+klen+vlen]
	w.pending = kvOp{off: off, klen: klen, vlen: vlen}
	return w.buf[off : off+klen], w.buf[off+klen:]
}

// finish files the Set alloc reserved last, once its key is filled in,
// under its prefix.
func (w *sortedWrites) finish() {
	op := w.pending
	var head [8]byte
	copy(head[:], w.key(&op))
	op.head = binary.BigEndian.Uint64(head[:])
	g := &w.groups[w.buf[op.off]]
	if n := len(g.ops); n > 0 && w.compare(op, g.ops[n-1]) < 0 {
		g.unsorted = true
	}
	g.ops = append(g.ops, op)
}

func (w *sortedWrites) key(op *kvOp) []byte   { return w.buf[op.off : op.off+op.klen] }
func (w *sortedWrites) value(op *kvOp) []byte { return w.buf[op.off+op.klen : op.off+op.klen+op.vlen] }

// size is the bytes of the keys and values collected, and their count.
func (w *sortedWrites) size() (bytes, sets int) {
	for i := range w.groups {
		sets += len(w.groups[i].ops)
	}
	return len(w.buf), sets
}

// compare orders Sets by key, and the Sets of one key by call order.
func (w *sortedWrites) compare(a, b kvOp) int {
	if a.head != b.head {
		return cmp.Compare(a.head, b.head)
	}
	if c := bytes.Compare(w.key(&a), w.key(&b)); c != 0 {
		return c
	}
	return cmp.Compare(a.off, b.off)
}

// writeTo adds the Sets to b in ascending key order (call order within a
// key), sorting the groups that came out of order.
func (w *sortedWrites) writeTo(b *pebble.Batch) error {
	for i := range w.groups {
		g := &w.groups[i]
		if g.unsorted {
			slices.SortFunc(g.ops, w.compare)
		}
		for j := range g.ops {
			op := &g.ops[j]
			if err := b.Set(w.key(op), w.value(op), nil); err != nil {
				return err
			}
		}
	}
	return nil
}
