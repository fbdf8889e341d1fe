package codec

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

var algos = []Algo{Raw, S2, Zstd}

func TestRoundTrip(t *testing.T) {
	inputs := map[string][]byte{
		"nil":    nil,
		"empty":  {},
		"short":  []byte("hi"),
		"zeros":  make([]byte, 1<<20),
		"text":   []byte(strings.Repeat(`{"type":"purchase","amount":2999}`+"\n", 500)),
		"random": randBytes(t, 100_000),
	}
	for _, w := range workloads() {
		inputs[w.name] = w.bytes
	}
	for name, in := range inputs {
		for _, a := range algos {
			prefix := []byte("prefix")
			enc := CompressWith(append([]byte(nil), prefix...), in, a)
			if !bytes.Equal(enc[:len(prefix)], prefix) {
				t.Fatalf("%s/%v: Compress clobbered dst prefix", name, a)
			}
			enc = enc[len(prefix):]
			if Algo(enc[0]) != a && Algo(enc[0]) != Raw {
				t.Fatalf("%s/%v: header %v", name, a, Algo(enc[0]))
			}
			if len(enc) > len(in)+1 {
				t.Fatalf("%s/%v: encoded %d > 1+%d", name, a, len(enc), len(in))
			}
			out, err := Decompress([]byte("pre"), enc, len(in))
			if err != nil {
				t.Fatalf("%s/%v: %v", name, a, err)
			}
			if string(out[:3]) != "pre" || !bytes.Equal(out[3:], in) {
				t.Fatalf("%s/%v: round trip mismatch", name, a)
			}
		}
	}
}

func TestCompressibleIsCompressed(t *testing.T) {
	for _, w := range workloads() {
		for _, a := range []Algo{S2, Zstd} {
			enc := CompressWith(nil, w.bytes, a)
			if Algo(enc[0]) != a || len(enc) >= len(w.bytes)*9/10 {
				t.Fatalf("%s/%v: header %v, %d -> %d bytes", w.name, a, Algo(enc[0]), len(w.bytes), len(enc))
			}
		}
	}
	if enc := Compress(nil, make([]byte, 4096)); Algo(enc[0]) != DefaultAlgo {
		t.Fatalf("Compress does not use DefaultAlgo: %v", Algo(enc[0]))
	}
}

func TestIncompressibleStaysRaw(t *testing.T) {
	in := randBytes(t, 64<<10)
	for _, a := range algos {
		enc := CompressWith(nil, in, a)
		if Algo(enc[0]) != Raw || len(enc) != len(in)+1 || !bytes.Equal(enc[1:], in) {
			t.Fatalf("%v: incompressible input not stored raw (header %v, len %d)", a, Algo(enc[0]), len(enc))
		}
	}
	// Tiny inputs are raw too: nothing to gain.
	if enc := Compress(nil, []byte("aaaaaaaa")); Algo(enc[0]) != Raw {
		t.Fatalf("tiny input header %v", Algo(enc[0]))
	}
}

func TestCapEnforced(t *testing.T) {
	in := bytes.Repeat([]byte("loyalty points "), 10_000) // 150,000 bytes
	for _, a := range algos {
		enc := CompressWith(nil, in, a)
		if _, err := Decompress(nil, enc, len(in)); err != nil {
			t.Fatalf("%v: at exact cap: %v", a, err)
		}
		out, err := Decompress(nil, enc, len(in)-1)
		if !errors.Is(err, ErrTooLarge) || out != nil {
			t.Fatalf("%v: cap-1 = %v, %d bytes; want ErrTooLarge", a, err, len(out))
		}
		if _, err := Decompress(nil, enc, 0); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("%v: cap 0 = %v", a, err)
		}
	}
	if _, err := Decompress(nil, []byte{byte(Raw)}, -1); err == nil {
		t.Fatal("negative cap accepted")
	}
}

// A frame whose header declares a small size but whose body (or a second
// frame) produces more must not get past the cap.
func TestCapEnforcedAgainstLyingHeaders(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 1<<20)
	small := []byte(strings.Repeat("y", 100))

	// zstd: two concatenated frames; the first declares 100 bytes.
	enc, _ := zstd.NewWriter(nil)
	two := enc.EncodeAll(small, nil)
	two = enc.EncodeAll(big, two)
	_, err := Decompress(nil, append([]byte{byte(Zstd)}, two...), 1000)
	if err == nil {
		t.Fatal("zstd: second frame exceeded cap without error")
	}
	// zstd: frame without content size (streaming encoder) is rejected.
	var buf bytes.Buffer
	w, _ := zstd.NewWriter(&buf, zstd.WithSingleSegment(false))
	w.Write(small)
	w.Close()
	var h zstd.Header
	if h.Decode(buf.Bytes()); !h.HasFCS {
		if _, err := Decompress(nil, append([]byte{byte(Zstd)}, buf.Bytes()...), 1<<20); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("zstd without FCS: %v", err)
		}
	}
	// s2: header declaring a huge size is rejected before allocation.
	s2big := s2.Encode(nil, big)
	if _, err := Decompress(nil, append([]byte{byte(S2)}, s2big...), 1000); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("s2 big: %v", err)
	}
	// maxSize above MaxDecodedSize is clamped.
	huge := []byte{byte(S2), 0xff, 0xff, 0xff, 0xff, 0x0f} // declares 4 GiB-1
	if _, err := Decompress(nil, huge, 1<<40); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("s2 4GiB declaration: %v", err)
	}
}

func TestCorruptInputs(t *testing.T) {
	for _, src := range [][]byte{nil, {}, {3}, {0xff, 1, 2}, {byte(S2)}, {byte(Zstd)}, {byte(Zstd), 1, 2, 3, 4, 5}} {
		if _, err := Decompress(nil, src, 1<<20); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%x: %v, want ErrCorrupt", src, err)
		}
	}
	// Truncations of valid encodings never panic and never succeed with
	// wrong data.
	in := ndjson(genCommands(7, 200))
	for _, a := range []Algo{S2, Zstd} {
		enc := CompressWith(nil, in, a)
		for n := 1; n < len(enc); n += 1 + n/16 {
			out, err := Decompress(nil, enc[:n], len(in))
			if err == nil && !bytes.Equal(out, in) {
				t.Fatalf("%v: truncated to %d decoded to wrong data", a, n)
			}
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	ws := workloads()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var enc, dec []byte
			for i := 0; i < 20; i++ {
				w := ws[(g+i)%len(ws)]
				a := algos[(g+i)%len(algos)]
				enc = CompressWith(enc[:0], w.bytes, a)
				var err error
				dec, err = Decompress(dec[:0], enc, len(w.bytes))
				if err != nil || !bytes.Equal(dec, w.bytes) {
					t.Errorf("goroutine %d: %v", g, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func FuzzDecompress(f *testing.F) {
	f.Add([]byte{}, 100)
	f.Add([]byte{byte(Raw), 'a', 'b'}, 1)
	in := ndjson(genCommands(1, 20))
	for _, a := range algos {
		f.Add(CompressWith(nil, in, a), len(in))
		f.Add(CompressWith(nil, in, a), len(in)/2)
	}
	f.Fuzz(func(t *testing.T, src []byte, maxSize int) {
		if maxSize < 0 {
			maxSize = -maxSize
		}
		maxSize %= 4 << 20
		out, err := Decompress([]byte("pre"), src, maxSize)
		if err != nil {
			if out != nil {
				t.Fatalf("error %v with non-nil output", err)
			}
			return
		}
		if len(out)-3 > maxSize {
			t.Fatalf("decoded %d bytes, cap %d", len(out)-3, maxSize)
		}
		if string(out[:3]) != "pre" {
			t.Fatal("dst prefix clobbered")
		}
		// Whatever decodes must survive a round trip through every algo.
		for _, a := range algos {
			again, err := Decompress(nil, CompressWith(nil, out[3:], a), len(out)-3)
			if err != nil || !bytes.Equal(again, out[3:]) {
				t.Fatalf("re-round-trip via %v: %v", a, err)
			}
		}
	})
}

func randBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkCompress measures each algorithm on realistic Raft entry
// payloads. MB/s is over the uncompressed size; ratio = raw/encoded;
// B/cmd = encoded bytes per command.
func BenchmarkCompress(b *testing.B) {
	for _, w := range workloads() {
		for _, a := range []Algo{S2, Zstd} {
			b.Run(w.name+"/"+a.String(), func(b *testing.B) {
				dst := CompressWith(nil, w.bytes, a)
				if Algo(dst[0]) != a {
					b.Fatalf("fell back to %v", Algo(dst[0]))
				}
				b.SetBytes(int64(len(w.bytes)))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					dst = CompressWith(dst[:0], w.bytes, a)
				}
				b.ReportMetric(float64(len(w.bytes))/float64(len(dst)), "ratio")
				b.ReportMetric(float64(len(dst))/float64(w.cmds), "B/cmd")
				b.ReportMetric(float64(len(w.bytes))/float64(w.cmds), "rawB/cmd")
			})
		}
	}
}

func BenchmarkDecompress(b *testing.B) {
	for _, w := range workloads() {
		for _, a := range []Algo{S2, Zstd} {
			b.Run(w.name+"/"+a.String(), func(b *testing.B) {
				enc := CompressWith(nil, w.bytes, a)
				out, err := Decompress(nil, enc, len(w.bytes))
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(w.bytes)))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if out, err = Decompress(out[:0], enc, len(w.bytes)); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(w.bytes))/float64(len(enc)), "ratio")
			})
		}
	}
}
