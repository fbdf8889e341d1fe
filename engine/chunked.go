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

// pool is a chunked table whose rows can be given back and reused: the
// record tables of a store-backed engine, whose rows come and go with the
// resident window. A keep-all engine never releases a row, so its rows keep
// creation order (the order its snapshot writes them in).
type pool[T any] struct {
	chunked[T]
	free []int32
}

// put stores v in a free row, or a new one, and returns its index.
func (p *pool[T]) put(v T) int32 {
	if n := len(p.free); n > 0 {
		i := p.free[n-1]
		p.free = p.free[:n-1]
		*p.at(i) = v
		return i
	}
	return p.add(v)
}

// release zeroes row i (dropping what it points to) and makes it free.
func (p *pool[T]) release(i int32) {
	var zero T
	*p.at(i) = zero
	p.free = append(p.free, i)
}

// live is the number of rows in use.
func (p *pool[T]) live() int { return p.n - len(p.free) }

// fifo is a queue of row indices, oldest first, in one slice that is
// compacted once half of it has been popped (no allocation in steady state).
type fifo struct {
	q    []int32
	head int
}

func (f *fifo) push(v int32) { f.q = append(f.q, v) }

func (f *fifo) len() int { return len(f.q) - f.head }

func (f *fifo) pop() int32 {
	v := f.q[f.head]
	f.head++
	if f.head >= 1024 && 2*f.head >= len(f.q) {
		n := copy(f.q, f.q[f.head:])
		f.q, f.head = f.q[:n], 0
	}
	return v
}
