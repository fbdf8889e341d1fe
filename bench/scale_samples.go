package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	// CommandsPerS is the throughput since the previous sample (since the
	// start for the first).
	CommandsPerS float64 `json:"commands_per_s"`
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
	// members is the engine's member count after the last batch, for
	// progress lines read while a batch runs.
	members  atomic.Int64
	baseHeap uint64
	// Log, when set, receives each sample as a JSON line as it is taken,
	// so that a long run's curve survives the run being stopped.
	Log io.Writer
}

// NewScaleSampler samples t, whose ledger lives in dir, over a run of
// count commands. It measures the heap in use (after a GC) as the run's
// base, then starts the clock.
func NewScaleSampler(t *EngineTarget, dir string, count int64) *ScaleSampler {
	step := max(count/sampleParts, 1)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return &ScaleSampler{EngineTarget: t, dir: dir, step: step, next: step, start: time.Now(),
		heap: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}, baseHeap: ms.HeapInuse}
}

// BaseHeap is the heap in use before the first command (after a GC): the
// program, the ledger and the empty engine, which do not grow with members.
func (s *ScaleSampler) BaseHeap() uint64 { return s.baseHeap }

// Submit implements Target: the batch, then a sample if one is due.
func (s *ScaleSampler) Submit(ctx context.Context, lines [][]byte, dst []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dst, err := s.EngineTarget.Submit(ctx, lines, dst)
	s.members.Store(int64(s.Engine().Members()))
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
	x := ScaleSample{Commands: int64(s.pos), Members: s.Engine().Members(), HeapBytes: liveHeap(s.heap),
		RSSBytes: residentBytes(), DiskBytes: DirSize(s.dir), ElapsedS: time.Since(s.start).Seconds()}
	var prev ScaleSample
	if n := len(s.samples); n > 0 {
		prev = s.samples[n-1]
	}
	if dt := x.ElapsedS - prev.ElapsedS; dt > 0 {
		x.CommandsPerS = float64(x.Commands-prev.Commands) / dt
	}
	s.samples = append(s.samples, x)
	if s.Log != nil {
		line, _ := json.Marshal(x)
		_, _ = s.Log.Write(append(line, '\n'))
	}
}

// Progress is the growth part of a progress line: live heap, RSS, disk and
// members, read while a batch may be running (the members as of the last
// batch; the directory walk tolerates files Pebble removes meanwhile).
func (s *ScaleSampler) Progress() string {
	mb := func(b float64) float64 { return b / (1 << 20) }
	return fmt.Sprintf("heap %7.1f MB  rss %7.1f MB  disk %8.1f MB  members %d",
		mb(float64(liveHeap([]metrics.Sample{{Name: "/gc/heap/live:bytes"}}))), mb(float64(residentBytes())),
		mb(float64(DirSize(s.dir))), s.members.Load())
}

// LiveLots counts the lots holding points over every member, as of the
// engine clock: with Members, what a steady-state heap is made of. It
// reads the whole engine, so call it after the run.
func (s *ScaleSampler) LiveLots() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.Engine()
	var n int64
	for mi := range e.Members() {
		v := e.View(int32(mi), true)
		n += int64(len(v.Lots))
	}
	return n
}

// liveHeap reads Go's live heap as of the last GC into m (one
// "/gc/heap/live:bytes" sample); 0 if the runtime lacks the metric.
func liveHeap(m []metrics.Sample) uint64 {
	metrics.Read(m)
	if m[0].Value.Kind() == metrics.KindUint64 {
		return m[0].Value.Uint64()
	}
	return 0
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
