package engine

// chunked is an append-only table in fixed-size chunks: appending never
// copies what is already stored (a doubling slice copies gigabytes at
// coalition scale, and needs twice the memory while it does), and element
// addresses stay stable.
type chunked[T any] struct {
	chunks [][]T
	n      int
}

const chunkBits = 14 // 16,384 elements a chunk

func (c *chunked[T]) len() int { return c.n }

func (c *chunked[T]) at(i int32) *T {
	return &c.chunks[i>>chunkBits][i&(1<<chunkBits-1)]
}

func (c *chunked[T]) add(v T) int32 {
	if c.n&(1<<chunkBits-1) == 0 {
		c.chunks = append(c.chunks, make([]T, 0, 1<<chunkBits))
	}
	last := &c.chunks[len(c.chunks)-1]
	*last = append(*last, v)
	c.n++
	return int32(c.n - 1)
}

// pop removes the last element (a rejected command's new member).
func (c *chunked[T]) pop() {
	last := &c.chunks[len(c.chunks)-1]
	var zero T
	(*last)[len(*last)-1] = zero
	*last = (*last)[:len(*last)-1]
	c.n--
	if len(*last) == 0 {
		c.chunks = c.chunks[:len(c.chunks)-1]
	}
}
