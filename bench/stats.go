package bench

import (
	"bytes"
	"sort"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds, 1 µs … 1 h, 3 significant digits.
const (
	histMin    = 1
	histMax    = int64(time.Hour / time.Microsecond)
	histDigits = 3
)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(histMin, histMax, histDigits) }

// Percentiles of a latency distribution, in milliseconds.
type Percentiles struct {
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p999_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
	N    int64   `json:"count"`
}

func percentilesOf(h *hdrhistogram.Histogram) Percentiles {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Percentiles{
		P50: ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)), P99: ms(h.ValueAtQuantile(99)),
		P999: ms(h.ValueAtQuantile(99.9)), Max: ms(h.Max()), Mean: h.Mean() / 1000, N: h.TotalCount(),
	}
}

// Sample is one interval of the time series.
type Sample struct {
	T          float64 `json:"t_s"` // seconds since the start, end of the interval
	Commands   int64   `json:"commands"`
	Rate       float64 `json:"commands_per_s"`
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	P999       float64 `json:"p999_ms"`
	Max        float64 `json:"max_ms"`
	Errors     int64   `json:"errors"`
	Late       int64   `json:"late"`
	Dropped    int64   `json:"dropped"`
	HeapInuseB uint64  `json:"heap_inuse_bytes,omitempty"`
}

// Recorder collects latencies (per command: each command of a batch gets the
// batch's latency), results by error code and the time series. It is safe
// for concurrent use.
type Recorder struct {
	mu       sync.Mutex
	start    time.Time
	total    *hdrhistogram.Histogram
	interval *hdrhistogram.Histogram
	ok       int64
	rejected int64 // result lines with "status":"error"
	codes    map[string]int64
	failed   int64 // commands of batches whose Submit failed
	late     int64
	dropped  int64
	batches  int64
	// current interval
	iCommands, iErrors, iLate, iDropped int64
	lastT                               time.Time
	series                              []Sample
}

// NewRecorder starts a recorder at start.
func NewRecorder(start time.Time) *Recorder {
	return &Recorder{start: start, lastT: start, total: newHist(), interval: newHist(), codes: map[string]int64{}}
}

var errorKey = []byte(`"error":"`)

// errorCode returns the "error" member of a result line, or nil.
func errorCode(line []byte) []byte {
	i := bytes.Index(line, errorKey)
	if i < 0 {
		return nil
	}
	rest := line[i+len(errorKey):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return rest
	}
	return rest[:j]
}

// Batch records one completed batch of n commands: its latency and its
// NDJSON results (one line per command).
func (r *Recorder) Batch(n int, lat time.Duration, results []byte) {
	us := max(lat.Microseconds(), histMin)
	us = min(us, histMax)
	var rej int64
	r.mu.Lock()
	for len(results) > 0 {
		line := results
		if i := bytes.IndexByte(results, '\n'); i >= 0 {
			line, results = results[:i], results[i+1:]
		} else {
			results = nil
		}
		if c := errorCode(line); c != nil {
			rej++
			r.codes[string(c)]++
		}
	}
	r.total.RecordValues(us, int64(n))
	r.interval.RecordValues(us, int64(n))
	r.ok += int64(n) - rej
	r.rejected += rej
	r.batches++
	r.iCommands += int64(n)
	r.iErrors += rej
	r.mu.Unlock()
}

// Failed records a batch of n commands whose Submit failed with code.
func (r *Recorder) Failed(n int, code string) {
	r.mu.Lock()
	r.failed += int64(n)
	r.codes[code] += int64(n)
	r.iErrors += int64(n)
	r.mu.Unlock()
}

// Late records n commands sent later than their intended time.
func (r *Recorder) Late(n int) {
	r.mu.Lock()
	r.late += int64(n)
	r.iLate += int64(n)
	r.mu.Unlock()
}

// Dropped records n commands never sent (the open loop fell too far behind).
func (r *Recorder) Dropped(n int) {
	r.mu.Lock()
	r.dropped += int64(n)
	r.iDropped += int64(n)
	r.mu.Unlock()
}

// Tick closes the current interval at now and returns its sample.
func (r *Recorder) Tick(now time.Time, heap uint64) Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	dt := now.Sub(r.lastT).Seconds()
	s := Sample{T: now.Sub(r.start).Seconds(), Commands: r.iCommands, Errors: r.iErrors, Late: r.iLate, Dropped: r.iDropped, HeapInuseB: heap}
	if dt > 0 {
		s.Rate = float64(r.iCommands) / dt
	}
	if r.interval.TotalCount() > 0 {
		p := percentilesOf(r.interval)
		s.P50, s.P99, s.P999, s.Max = p.P50, p.P99, p.P999, p.Max
	}
	r.interval.Reset()
	r.iCommands, r.iErrors, r.iLate, r.iDropped = 0, 0, 0, 0
	r.lastT = now
	r.series = append(r.series, s)
	return s
}

// Totals is a snapshot of the recorder's counters.
type Totals struct {
	Commands int64            `json:"commands"` // completed (ok + rejected)
	OK       int64            `json:"ok"`
	Rejected int64            `json:"rejected"`
	Failed   int64            `json:"failed"`
	Late     int64            `json:"late"`
	Dropped  int64            `json:"dropped"`
	Batches  int64            `json:"batches"`
	Errors   map[string]int64 `json:"errors_by_code"`
	Latency  Percentiles      `json:"latency"`
}

// Totals returns the counters so far.
func (r *Recorder) Totals() Totals {
	r.mu.Lock()
	defer r.mu.Unlock()
	codes := make(map[string]int64, len(r.codes))
	for k, v := range r.codes {
		codes[k] = v
	}
	return Totals{Commands: r.ok + r.rejected, OK: r.ok, Rejected: r.rejected, Failed: r.failed, Late: r.late,
		Dropped: r.dropped, Batches: r.batches, Errors: codes, Latency: percentilesOf(r.total)}
}

// Series returns the samples so far.
func (r *Recorder) Series() []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Sample(nil), r.series...)
}

// sortedCodes returns the error codes by descending count.
func sortedCodes(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if m[keys[a]] != m[keys[b]] {
			return m[keys[a]] > m[keys[b]]
		}
		return keys[a] < keys[b]
	})
	return keys
}
