package raft

import "io"

// snapChunkBytes is the unit a snapshot is serialised into in memory.
const snapChunkBytes = 1 << 20

// chunkBuffer holds a snapshot serialised under the apply lock until
// Persist writes it out. It grows by whole chunks and never copies:
// bytes.Buffer's doubling holds the old and the new array at once, up to
// three times the snapshot's size at its peak, where this holds the size
// plus one chunk. For an engine of gigabytes that is the difference.
type chunkBuffer struct {
	chunks [][]byte
	size   int
}

func (b *chunkBuffer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(b.chunks) == 0 || len(b.chunks[len(b.chunks)-1]) == snapChunkBytes {
			b.chunks = append(b.chunks, make([]byte, 0, snapChunkBytes))
		}
		last := &b.chunks[len(b.chunks)-1]
		k := min(len(p), snapChunkBytes-len(*last))
		*last = append(*last, p[:k]...)
		p = p[k:]
	}
	b.size += n
	return n, nil
}

// Len is the number of bytes written.
func (b *chunkBuffer) Len() int { return b.size }

// WriteTo writes the bytes in order.
func (b *chunkBuffer) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for _, c := range b.chunks {
		n, err := w.Write(c)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// reset drops the chunks (the memory goes back to the runtime).
func (b *chunkBuffer) reset() { b.chunks, b.size = nil, 0 }
