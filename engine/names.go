package engine

import "unsafe"

// nameStore keeps member ids back to back in 1 MiB chunks, each after a
// byte holding its length, so that a member refers to its id with a 40-bit
// offset (5 bytes) instead of a 16-byte string header and a separate
// allocation. An id never spans two chunks: one that does not fit in the
// rest of a chunk starts the next one (at most 64 bytes lost per MiB, ids
// being 1–64 bytes, SPEC §2). Ids are never removed: a rejected command's
// new member leaves its bytes behind.
type nameStore struct {
	chunks [][]byte
}

const (
	nameChunkBits = 20
	nameChunk     = 1 << nameChunkBits
)

// nameRef locates one id in a nameStore: its length byte's offset.
type nameRef struct {
	off uint32 // low 32 bits
	hi  uint8  // high 8 bits
}

// add stores b, which is 1 … 255 bytes long, and returns where it is.
func (s *nameStore) add(b []byte) nameRef {
	if len(s.chunks) == 0 || nameChunk-len(s.chunks[len(s.chunks)-1]) < 1+len(b) {
		s.chunks = append(s.chunks, make([]byte, 0, nameChunk))
	}
	last := &s.chunks[len(s.chunks)-1]
	off := uint64(len(s.chunks)-1)<<nameChunkBits | uint64(len(*last))
	*last = append(append(*last, byte(len(b))), b...)
	return nameRef{off: uint32(off), hi: uint8(off >> 32)}
}

// str returns the id at r, backed by the store (no copy).
func (s *nameStore) str(r nameRef) string {
	off := uint64(r.hi)<<32 | uint64(r.off)
	c := s.chunks[off>>nameChunkBits]
	at := off & (nameChunk - 1)
	return unsafe.String(&c[at+1], int(c[at]))
}

// bytes is the memory the store holds: its chunks' capacity.
func (s *nameStore) bytes() int { return len(s.chunks) * nameChunk }
