package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
)

// chainHasher computes a batch's link in the hash chain:
// sha256(prev hash || position || first seq || count || for each block:
// first seq || len || value).
type chainHasher struct {
	h   hash.Hash
	buf [8]byte
}

func newChainHasher(prev [32]byte, pos, firstSeq, count uint64) *chainHasher {
	c := &chainHasher{h: sha256.New()}
	c.h.Write(prev[:])
	c.u64(pos)
	c.u64(firstSeq)
	c.u64(count)
	return c
}

func (c *chainHasher) u64(v uint64) {
	binary.BigEndian.PutUint64(c.buf[:], v)
	c.h.Write(c.buf[:])
}

func (c *chainHasher) block(firstSeq uint64, v []byte) {
	c.u64(firstSeq)
	c.u64(uint64(len(v)))
	c.h.Write(v)
}

func (c *chainHasher) sum() (s [32]byte) {
	c.h.Sum(s[:0])
	return s
}
