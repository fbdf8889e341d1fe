package codec

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Algo is the one-byte header in front of every encoded payload. The values
// are part of the on-disk / on-wire format: never renumber them.
type Algo byte

const (
	Raw  Algo = 0 // payload stored as is
	S2   Algo = 1 // klauspost s2 block (no CRC; Pebble and the transport checksum)
	Zstd Algo = 2 // one zstd frame with its content size, checksummed
)

func (a Algo) String() string {
	switch a {
	case Raw:
		return "raw"
	case S2:
		return "s2"
	case Zstd:
		return "zstd"
	default:
		return fmt.Sprintf("algo(%d)", byte(a))
	}
}

// DefaultAlgo is what Compress uses. See the package documentation for the
// measurements behind the choice.
const DefaultAlgo = S2

// MaxDecodedSize is the hard ceiling on one decoded payload, whatever
// maxSize a caller passes to Decompress; the shared zstd decoder's memory
// is capped at this value too.
const MaxDecodedSize = 64 << 20

// minCompressSize: below this the header and codec overhead cannot win.
const minCompressSize = 32

var (
	// ErrTooLarge is returned when the decoded payload would exceed the cap.
	ErrTooLarge = errors.New("codec: decoded payload exceeds size cap")
	// ErrCorrupt is returned (possibly wrapped) for malformed input.
	ErrCorrupt = errors.New("codec: corrupt payload")
)

// One shared zstd encoder: EncodeAll is safe for concurrent use and keeps a
// small pool of encoder states (GOMAXPROCS of them) internally.
var zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
	e, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		// Always write the frame content size (by default frames under
		// 256 bytes omit it): Decompress checks it against the cap first.
		zstd.WithSingleSegment(true),
	)
	if err != nil {
		panic(err)
	}
	return e
})

// One shared zstd decoder, concurrency 1 (DecodeAll calls are serialised),
// memory and window capped, DecodeAll limited to the capacity we give it.
var zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
	d, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxMemory(MaxDecodedSize),
		zstd.WithDecoderMaxWindow(MaxDecodedSize),
		zstd.WithDecodeAllCapLimit(true),
	)
	if err != nil {
		panic(err)
	}
	return d
})

// Compress appends the encoded form of src (header byte + payload) to dst
// using DefaultAlgo and returns the extended slice. The compressed form is
// kept only if it is smaller than src; otherwise the payload is src itself
// under the Raw header. Pass dst[:0] to reuse a buffer. dst and src must not
// overlap.
func Compress(dst, src []byte) []byte {
	return CompressWith(dst, src, DefaultAlgo)
}

// CompressWith is Compress with an explicit algorithm. Raw (or any unknown
// value) stores src uncompressed.
func CompressWith(dst, src []byte, algo Algo) []byte {
	start := len(dst)
	if len(src) >= minCompressSize {
		switch algo {
		case S2:
			n := s2.MaxEncodedLen(len(src))
			if n < 0 { // too large for an s2 block
				break
			}
			dst = slices.Grow(dst, 1+n)
			dst = append(dst, byte(S2))
			enc := s2.Encode(dst[start+1:start+1+n], src) // in place: cap is enough
			if len(enc) < len(src) {
				return dst[:start+1+len(enc)]
			}
			dst = dst[:start]
		case Zstd:
			// Pre-size for the raw fallback so a miss costs no extra growth.
			dst = slices.Grow(dst, 1+len(src))
			dst = append(dst, byte(Zstd))
			out := zstdEncoder().EncodeAll(src, dst)
			if len(out)-start-1 < len(src) {
				return out
			}
			dst = out[:start]
		}
	}
	dst = slices.Grow(dst, 1+len(src))
	dst = append(dst, byte(Raw))
	return append(dst, src...)
}

// Decompress appends the decoded form of src (as produced by Compress) to dst
// and returns the extended slice. A payload whose decoded size would exceed
// maxSize (or MaxDecodedSize, whichever is smaller) is rejected with
// ErrTooLarge before anything of that size is allocated: s2 and zstd both
// declare the decoded size up front and the declaration is checked first;
// zstd decoding is additionally limited to exactly the declared size. On
// error, dst's contents up to its original length are unchanged but the
// returned slice must not be used.
func Decompress(dst, src []byte, maxSize int) ([]byte, error) {
	if len(src) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrCorrupt)
	}
	if maxSize < 0 {
		return nil, fmt.Errorf("codec: negative maxSize %d", maxSize)
	}
	maxSize = min(maxSize, MaxDecodedSize)
	payload := src[1:]
	start := len(dst)
	switch Algo(src[0]) {
	case Raw:
		if len(payload) > maxSize {
			return nil, fmt.Errorf("%w: raw %d > %d", ErrTooLarge, len(payload), maxSize)
		}
		return append(dst, payload...), nil

	case S2:
		n, err := s2.DecodedLen(payload)
		if err != nil {
			return nil, fmt.Errorf("%w: s2: %v", ErrCorrupt, err)
		}
		if n > maxSize {
			return nil, fmt.Errorf("%w: s2 declares %d > %d", ErrTooLarge, n, maxSize)
		}
		dst = slices.Grow(dst, n)
		out, err := s2.Decode(dst[start:start+n], payload)
		if err != nil {
			return nil, fmt.Errorf("%w: s2: %v", ErrCorrupt, err)
		}
		if len(out) != n {
			return nil, fmt.Errorf("%w: s2 decoded %d bytes, declared %d", ErrCorrupt, len(out), n)
		}
		return dst[:start+n], nil

	case Zstd:
		var h zstd.Header
		if err := h.Decode(payload); err != nil {
			return nil, fmt.Errorf("%w: zstd header: %v", ErrCorrupt, err)
		}
		if h.Skippable || !h.HasFCS {
			return nil, fmt.Errorf("%w: zstd frame without content size", ErrCorrupt)
		}
		if h.FrameContentSize > uint64(maxSize) {
			return nil, fmt.Errorf("%w: zstd declares %d > %d", ErrTooLarge, h.FrameContentSize, maxSize)
		}
		n := int(h.FrameContentSize)
		dst = slices.Grow(dst, n)
		// Capacity limited to exactly n: with WithDecodeAllCapLimit the
		// decoder fails instead of growing past it (e.g. extra frames).
		out, err := zstdDecoder().DecodeAll(payload, dst[:start:start+n])
		if err != nil {
			if errors.Is(err, zstd.ErrDecoderSizeExceeded) {
				return nil, fmt.Errorf("%w: zstd: %v", ErrTooLarge, err)
			}
			return nil, fmt.Errorf("%w: zstd: %v", ErrCorrupt, err)
		}
		if len(out) != start+n {
			return nil, fmt.Errorf("%w: zstd decoded %d bytes, declared %d", ErrCorrupt, len(out)-start, n)
		}
		return out, nil

	default:
		return nil, fmt.Errorf("%w: unknown algorithm %d", ErrCorrupt, src[0])
	}
}
