package engine

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestHasStringStopIsExact: the eight-byte test agrees with a byte loop,
// for each stop byte and its neighbours at every position, and on random
// words (bytes above 0x7F, which borrow differently, included).
func TestHasStringStopIsExact(t *testing.T) {
	stop := func(x uint64) bool {
		for k := 0; k < 8; k++ {
			if c := byte(x >> (8 * k)); c == '"' || c == '\\' || c < 0x20 {
				return true
			}
		}
		return false
	}
	var words []uint64
	for _, fill := range []byte{'a', 0x20, 0x21, 0x7F, 0x80, 0xFF, '#', '[', ']'} {
		for _, c := range []byte{'"', '\\', 0, 0x1F, 0x20, 0x21, '!', '#', '[', ']', 0x5B, 0x5D, 0x80, 0xA2, 0xDC, 0xFF} {
			for k := 0; k < 8; k++ {
				w := bytes.Repeat([]byte{fill}, 8)
				w[k] = c
				words = append(words, binary.LittleEndian.Uint64(w))
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		words = append(words, r.Uint64())
	}
	for _, x := range words {
		if got, want := hasStringStop(x), stop(x); got != want {
			t.Fatalf("hasStringStop(%#016x) = %v, want %v", x, got, want)
		}
	}
}

// TestStrStopsAtTheFirstStop: a string whose quote, escape or control
// byte comes at any offset from the eight-byte steps is read to the same
// end, with the same value, as byte by byte.
func TestStrStopsAtTheFirstStop(t *testing.T) {
	for n := 0; n < 24; n++ {
		body := bytes.Repeat([]byte{'x'}, n)
		cases := map[string]struct {
			ok   bool
			want string
		}{
			`"` + string(body) + `"tail`:        {true, string(body)},
			`"` + string(body) + `\n"`:          {true, string(body) + "\n"},
			`"` + string(body) + "\x01\"":       {false, ""},
			`"` + string(body) + "\u00e9\"rest": {true, string(body) + "\u00e9"},
			`"` + string(body):                  {false, ""},
		}
		for in, c := range cases {
			p := parser{b: []byte(in), d: &Decoder{}}
			v := p.str()
			if p.err == c.ok || (c.ok && string(v) != c.want) {
				t.Errorf("%q: %q err=%v, want %q ok=%v", in, v, p.err, c.want, c.ok)
			}
		}
	}
}
