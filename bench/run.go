package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/accrual/accrual/bench/workload"
)

// RunConfig describes one load run.
type RunConfig struct {
	Workload workload.Config
	Count    int64 // commands to generate
	Clients  int   // concurrent submitters (closed loop) or senders (open loop)
	Batch    int   // commands per Submit
	// Rate > 0 selects the open loop: commands/s, batches sent at their
	// intended times start + k·Batch/Rate whatever the target does.
	Rate float64
	// LateAfter: an open-loop batch sent more than this after its intended
	// time counts its commands as late (default 1 ms).
	LateAfter time.Duration
	// MaxBacklog: an open-loop batch whose intended time is more than this in
	// the past when a sender would pick it up is dropped, not sent (default
	// 2 s). Dropped commands are neither sent nor acknowledged.
	MaxBacklog time.Duration
	// Record keeps the acknowledged command lines, in completion order, for
	// --validate (memory: the whole stream).
	Record bool
	// Progress receives a progress line every ProgressEvery (nil: none);
	// ProgressTTY rewrites one line with '\r' instead.
	Progress      io.Writer
	ProgressEvery time.Duration
	ProgressTTY   bool
	// ProgressExtra, if set, adds its text to every progress line (the
	// scale run's heap, RSS and disk). It runs beside the submitters.
	ProgressExtra func() string
	// SampleEvery is the time-series interval (default 1 s).
	SampleEvery time.Duration
	// Timeout of one Submit (default 60 s).
	Timeout time.Duration
}

func (c *RunConfig) defaults() {
	if c.Clients <= 0 {
		c.Clients = 1
	}
	if c.Batch <= 0 {
		c.Batch = 1000
	}
	if c.LateAfter <= 0 {
		c.LateAfter = time.Millisecond
	}
	if c.MaxBacklog <= 0 {
		c.MaxBacklog = 2 * time.Second
	}
	if c.SampleEvery <= 0 {
		c.SampleEvery = time.Second
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = 5 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 60 * time.Second
	}
}

// batch is a unit of work: lines point into buf.
type batch struct {
	seq      int64 // 0-based batch number
	buf      []byte
	lines    [][]byte
	intended time.Time // open loop: when it should be sent
}

func (b *batch) reset() {
	b.buf = b.buf[:0]
	b.lines = b.lines[:0]
}

// Outcome is the raw result of Run.
type Outcome struct {
	Target   string
	Mode     string // "closed" or "open"
	Start    time.Time
	Elapsed  time.Duration
	Totals   Totals
	Series   []Sample
	Acked    [][]byte // Record: acknowledged batches (NDJSON, newline-terminated), completion order
	Program  []byte
	Resource Resources
}

// Run drives the stream cfg describes through t and measures it.
func Run(ctx context.Context, t Target, cfg RunConfig) (*Outcome, error) {
	cfg.defaults()
	gen, err := workload.New(cfg.Workload)
	if err != nil {
		return nil, err
	}
	program := gen.Program()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &runner{ctx: ctx, t: t, cfg: cfg,
		ready: make(chan *batch, 4*cfg.Clients+4),
		free:  make(chan *batch, 8*cfg.Clients+8),
	}
	go r.produce(gen)

	res := startResources()
	r.start = time.Now()
	r.rec = NewRecorder(r.start)
	done := make(chan struct{})
	var samplerWG sync.WaitGroup
	samplerWG.Add(1)
	go func() {
		defer samplerWG.Done()
		r.sample(done)
	}()

	var wg sync.WaitGroup
	mode := "closed"
	if cfg.Rate <= 0 {
		r.closedLoop(&wg)
	} else {
		mode = "open"
		r.openLoop(&wg)
	}
	wg.Wait()
	elapsed := time.Since(r.start)
	close(done)
	samplerWG.Wait()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.rec.Tick(time.Now(), ms.HeapInuse)
	if cfg.Progress != nil && cfg.ProgressTTY {
		fmt.Fprintln(cfg.Progress)
	}
	out := &Outcome{Target: t.Name(), Mode: mode, Start: r.start, Elapsed: elapsed, Totals: r.rec.Totals(),
		Series: r.rec.Series(), Acked: r.acked, Program: program}
	out.Resource = res.finish(t)
	return out, ctx.Err()
}

// runner is one Run in progress: the batches flow producer -> ready ->
// senders -> free (recycled), and the recorder measures them.
type runner struct {
	ctx   context.Context
	t     Target
	cfg   RunConfig
	start time.Time
	rec   *Recorder
	// The producer generates batches ahead of the senders; free recycles them.
	ready, free chan *batch

	ackMu sync.Mutex
	acked [][]byte // Record: acknowledged batches, completion order
}

// produce generates the stream into batches on ready, closing it at the end.
func (r *runner) produce(gen *workload.Generator) {
	defer close(r.ready)
	left := r.cfg.Count
	for seq := int64(0); left > 0; seq++ {
		var b *batch
		select {
		case b = <-r.free:
			b.reset()
		default:
			b = &batch{buf: make([]byte, 0, r.cfg.Batch*160), lines: make([][]byte, 0, r.cfg.Batch)}
		}
		b.seq = seq
		n := min(left, int64(r.cfg.Batch))
		for i := int64(0); i < n; i++ {
			b.buf = gen.Next(b.buf)
		}
		// Split after generating: buf may move while it grows.
		b.lines = splitLines(b.buf, b.lines[:0])
		left -= n
		select {
		case r.ready <- b:
		case <-r.ctx.Done():
			return
		}
	}
}

// recycle hands a sent batch back to the producer, unless enough wait.
func (r *runner) recycle(b *batch) {
	select {
	case r.free <- b:
	default:
	}
}

// submit sends one batch and records its outcome; lat measures its latency
// once it returns. dst is the caller's response buffer, returned for reuse.
func (r *runner) submit(b *batch, dst []byte, lat func() time.Duration) []byte {
	sctx, scancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
	out, err := r.t.Submit(sctx, b.lines, dst[:0])
	scancel()
	d := lat()
	if err != nil {
		code := "transport"
		if ce, ok := err.(interface{ Code() string }); ok {
			code = ce.Code()
		}
		r.rec.Failed(len(b.lines), code)
		return out
	}
	r.rec.Batch(len(b.lines), d, out)
	if r.cfg.Record {
		cp := make([]byte, 0, len(b.buf))
		cp = append(cp, b.buf...)
		r.ackMu.Lock()
		r.acked = append(r.acked, cp)
		r.ackMu.Unlock()
	}
	return out
}

// sample ticks the recorder's time series, and prints progress, until done.
func (r *runner) sample(done <-chan struct{}) {
	cfg := &r.cfg
	tick := time.NewTicker(cfg.SampleEvery)
	defer tick.Stop()
	lastProgress := r.start
	var ms runtime.MemStats
	for {
		select {
		case <-done:
			return
		case now := <-tick.C:
			runtime.ReadMemStats(&ms)
			s := r.rec.Tick(now, ms.HeapInuse)
			if cfg.Progress != nil && (cfg.ProgressTTY || now.Sub(lastProgress) >= cfg.ProgressEvery) {
				lastProgress = now
				tot := r.rec.Totals()
				line := fmt.Sprintf("%s %6.1fs  %8d/%d cmds  %9.0f cmd/s  p99 %7.2f ms  errors %d  late %d  dropped %d",
					r.t.Name(), s.T, tot.Commands+tot.Failed, cfg.Count, s.Rate, s.P99, tot.Rejected+tot.Failed, tot.Late, tot.Dropped)
				if cfg.ProgressExtra != nil {
					line += "  " + cfg.ProgressExtra()
				}
				if cfg.ProgressTTY {
					fmt.Fprintf(cfg.Progress, "\r\033[K%s", line)
				} else {
					fmt.Fprintln(cfg.Progress, line)
				}
			}
		}
	}
}

// closedLoop starts the clients: each sends its next batch as soon as the
// last returns.
func (r *runner) closedLoop(wg *sync.WaitGroup) {
	for c := 0; c < r.cfg.Clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dst []byte
			for b := range r.ready {
				if r.ctx.Err() != nil {
					continue
				}
				t0 := time.Now()
				dst = r.submit(b, dst, func() time.Duration { return time.Since(t0) })
				r.recycle(b)
			}
		}()
	}
}

// openLoop starts a dispatcher releasing batch k at start + k·Batch/Rate to
// the senders; latency counts from that intended time.
func (r *runner) openLoop(wg *sync.WaitGroup) {
	interval := time.Duration(float64(r.cfg.Batch) / r.cfg.Rate * float64(time.Second))
	queue := make(chan *batch, r.cfg.Clients*64+1024)
	for c := 0; c < r.cfg.Clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.openSender(queue)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.dispatch(queue, interval)
	}()
}

// openSender sends the batches released to it, dropping those too far
// behind their intended time.
func (r *runner) openSender(queue <-chan *batch) {
	var dst []byte
	for b := range queue {
		now := time.Now()
		behind := now.Sub(b.intended)
		switch {
		case behind > r.cfg.MaxBacklog || r.ctx.Err() != nil:
			r.rec.Dropped(len(b.lines))
		default:
			if behind > r.cfg.LateAfter {
				r.rec.Late(len(b.lines))
			}
			intended := b.intended
			dst = r.submit(b, dst, func() time.Duration { return time.Since(intended) })
		}
		r.recycle(b)
	}
}

// dispatch releases each batch to the senders at its intended time.
func (r *runner) dispatch(queue chan<- *batch, interval time.Duration) {
	defer close(queue)
	k := int64(0)
	for b := range r.ready {
		b.intended = r.start.Add(time.Duration(k) * interval)
		k++
		if d := time.Until(b.intended); d > 0 {
			timer := time.NewTimer(d)
			select {
			case <-timer.C:
			case <-r.ctx.Done():
				timer.Stop()
			}
		}
		select {
		case queue <- b:
		default:
			// Every sender is busy and the queue is full: the target
			// cannot keep up; the batch is dropped, as a real open
			// system would lose or shed it.
			r.rec.Dropped(len(b.lines))
		}
	}
}

// splitLines splits NDJSON (every line ending in '\n') into lines without
// their newline, appending to dst.
func splitLines(buf []byte, dst [][]byte) [][]byte {
	for len(buf) > 0 {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			return append(dst, buf)
		}
		dst = append(dst, buf[:i:i])
		buf = buf[i+1:]
	}
	return dst
}
