package raft

import (
	"bytes"
	"testing"

	"pgregory.net/rapid"
)

// Whatever the sizes of the writes, the chunks hold the bytes in order,
// every chunk but the last is full, and no chunk grew past its capacity
// (it was never copied).
func TestChunkBufferKeepsBytesInOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var b chunkBuffer
		var want bytes.Buffer
		for _, n := range rapid.SliceOfN(rapid.IntRange(0, 3*snapChunkBytes), 0, 6).Draw(t, "writes") {
			p := bytes.Repeat([]byte{byte(n)}, n)
			if k, err := b.Write(p); k != n || err != nil {
				t.Fatalf("Write: %d, %v", k, err)
			}
			want.Write(p)
		}
		if b.Len() != want.Len() {
			t.Fatalf("Len %d, want %d", b.Len(), want.Len())
		}
		for i, c := range b.chunks {
			if cap(c) != snapChunkBytes || (i < len(b.chunks)-1 && len(c) != snapChunkBytes) {
				t.Fatalf("chunk %d of %d: len %d cap %d", i, len(b.chunks), len(c), cap(c))
			}
		}
		var got bytes.Buffer
		if n, err := b.WriteTo(&got); n != int64(want.Len()) || err != nil {
			t.Fatalf("WriteTo: %d, %v", n, err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatal("bytes differ")
		}
	})
}

// BenchmarkSnapshotBuffer compares what serialising 64 MiB in 4 KiB writes
// allocates: bytes.Buffer's doubling against chunkBuffer (B/op).
func BenchmarkSnapshotBuffer(b *testing.B) {
	const total = 64 << 20
	piece := make([]byte, 4096)
	b.Run("bytes.Buffer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var buf bytes.Buffer
			for range total / len(piece) {
				buf.Write(piece)
			}
		}
	})
	b.Run("chunkBuffer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var buf chunkBuffer
			for range total / len(piece) {
				buf.Write(piece)
			}
		}
	})
}
