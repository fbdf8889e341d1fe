package engine

import (
	"math"
	"testing"
)

// refHashInt is the byte-at-a-time FNV-1a step over v's 8 bytes that the
// stored digests were made with.
func refHashInt(h uint64, v int64) uint64 {
	for k := 0; k < 8; k++ {
		h ^= uint64(byte(v >> (8 * k)))
		h *= fnvPrime
	}
	return h
}

// TestHashIntIsByteAtATimeFNV: hashInt's folding of high zero bytes gives
// the byte-at-a-time digest for every kind of value (zero, small, middle
// zero bytes, negative, the extremes).
func TestHashIntIsByteAtATimeFNV(t *testing.T) {
	vals := []int64{0, 1, 7, 255, 256, 0x10000, 0x01000001, 1 << 40, 1_000_000_000_000, -1, -2, -300,
		math.MaxInt64, math.MinInt64, 0x7F00000000000000, 0x00FF00FF00FF00FF}
	for i := int64(1); i < 1<<62; i = i*3 + 1 {
		vals = append(vals, i, -i)
	}
	for _, h0 := range []uint64{fnvOffset, 0, 12345} {
		for _, v := range vals {
			if got, want := hashInt(h0, v), refHashInt(h0, v); got != want {
				t.Errorf("hashInt(%#x, %d) = %#x, want %#x", h0, v, got, want)
			}
		}
	}
}

// TestPayloadHashGolden: the payload digests of commands of each shape are
// the ones stored records hold (computed before hashInt folded zero bytes).
func TestPayloadHashGolden(t *testing.T) {
	cases := []struct {
		line string
		want uint64
	}{
		{`{"type":"purchase","id":"p-1","member":"M0001234","partner":"shop","amount":12345,"category":"food","at":"2026-01-01T00:00:00Z"}`, 0xd22f960133de1a92},
		{`{"type":"adjust","id":"a-1","member":"M1","points":-250,"reason":"goodwill"}`, 0x482b46cbc816d6be},
		{`{"type":"hold","id":"h-1","member":"M1","partner":"shop","points":1000,"timeout_s":600}`, 0xdf386583bf8cfdcf},
		{`{"type":"claim","id":"c-1","member":"M1","reward":"mug"}`, 0x19035fef6d12ff61},
		{`{"type":"transfer","id":"t-1","member":"M1","to":"M2","points":1000000000000000}`, 0x1a58bc5d92ed4aa8},
	}
	var d Decoder
	for _, c := range cases {
		var cmd Command
		d.Decode([]byte(c.line), &cmd)
		if cmd.Invalid {
			t.Fatalf("%s: invalid (%s)", c.line, cmd.Problem([]byte(c.line)))
		}
		if cmd.Hash != c.want {
			t.Errorf("%s: digest %#x, want %#x", c.line, cmd.Hash, c.want)
		}
	}
}
