package bench

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ScaleSample is one point of a scale run's growth curve.
type ScaleSample struct {
	Commands int64 `json:"commands"`
	Members  int   `json:"members"`
	// HeapBytes is Go's live heap as of the last GC cycle (runtime/metrics
	// "/gc/heap/live:bytes"): what survived marking, without the garbage
	// allocated since and without forcing a GC per sample (runtime.GC on a
	// tens-of-GB heap takes seconds). It lags the true live heap by at most
	// one GC cycle.
	HeapBytes uint64  `json:"heap_bytes"`
	RSSBytes  uint64  `json:"rss_bytes"`  // resident set (/proc/self/statm)
	DiskBytes int64   `json:"disk_bytes"` // the ledger directory, WAL included
	ElapsedS  float64 `json:"elapsed_s"`
}

// sampleParts is how finely a ScaleSampler divides a run: one sample per
// 5 %, so at least one per 10 % even when the last batch overshoots.
const sampleParts = 20

// ScaleSampler is a replay target that samples growth every 1/20 of the
// commands it expects: commands applied, members, heap, RSS, disk. It
// wraps an EngineTarget with a ledger and serializes its Submits (the
// engine applies one batch at a time anyway), so a sample reads the engine
// between batches.
type ScaleSampler struct {
	*EngineTarget
	dir     string
	step    int64 // commands between samples
	next    int64 // commands at which the next sample is due
	start   time.Time
	mu      sync.Mutex
	samples []ScaleSample
	heap    []metrics.Sample
	// Log, when set, receives each sample as a JSON line as it is taken,
	// so that a long run's curve survives the run being stopped.
	Log io.Writer
}

// NewScaleSampler samples t, whose ledger lives in dir, over a run of
// count commands. The clock starts now.
func NewScaleSampler(t *EngineTarget, dir string, count int64) *ScaleSampler {
	step := max(count/sampleParts, 1)
	return &ScaleSampler{EngineTarget: t, dir: dir, step: step, next: step, start: time.Now(),
		heap: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
}

// Submit implements Target: the batch, then a sample if one is due.
func (s *ScaleSampler) Submit(ctx context.Context, lines [][]byte, dst []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dst, err := s.EngineTarget.Submit(ctx, lines, dst)
	if err == nil && int64(s.pos) >= s.next {
		s.sampleLocked()
		for s.next <= int64(s.pos) {
			s.next += s.step
		}
	}
	return dst, err
}

// Sample takes a sample now (the end of a run), unless the last one was
// taken at the same command count.
func (s *ScaleSampler) Sample() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.samples); n == 0 || s.samples[n-1].Commands != int64(s.pos) {
		s.sampleLocked()
	}
}

// Samples returns the samples taken, in order.
func (s *ScaleSampler) Samples() []ScaleSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ScaleSample(nil), s.samples...)
}

func (s *ScaleSampler) sampleLocked() {
	metrics.Read(s.heap)
	var heap uint64
	if s.heap[0].Value.Kind() == metrics.KindUint64 {
		heap = s.heap[0].Value.Uint64()
	}
	s.samples = append(s.samples, ScaleSample{Commands: int64(s.pos), Members: s.Engine().Members(),
		HeapBytes: heap, RSSBytes: residentBytes(), DiskBytes: DirSize(s.dir), ElapsedS: time.Since(s.start).Seconds()})
	if s.Log != nil {
		line, _ := json.Marshal(s.samples[len(s.samples)-1])
		_, _ = s.Log.Write(append(line, '\n'))
	}
}

// residentBytes is this process's resident set size, 0 if unknown.
func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}
