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

	// The producer generates batches ahead of the senders; free recycles them.
	ready := make(chan *batch, 4*cfg.Clients+4)
	free := make(chan *batch, 8*cfg.Clients+8)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(ready)
		left := cfg.Count
		for seq := int64(0); left > 0; seq++ {
			var b *batch
			select {
			case b = <-free:
				b.reset()
			default:
				b = &batch{buf: make([]byte, 0, cfg.Batch*160), lines: make([][]byte, 0, cfg.Batch)}
			}
			b.seq = seq
			n := min(left, int64(cfg.Batch))
			for i := int64(0); i < n; i++ {
				b.buf = gen.Next(b.buf)
			}
			// Split after generating: buf may move while it grows.
			b.lines = splitLines(b.buf, b.lines[:0])
			left -= n
			select {
			case ready <- b:
			case <-ctx.Done():
				return
			}
		}
	}()

	res := startResources()
	start := time.Now()
	rec := NewRecorder(start)
	var (
		ackMu sync.Mutex
		acked [][]byte
	)
	submit := func(b *batch, dst []byte, lat func() time.Duration) []byte {
		sctx, scancel := context.WithTimeout(ctx, cfg.Timeout)
		out, err := t.Submit(sctx, b.lines, dst[:0])
		scancel()
		d := lat()
		if err != nil {
			code := "transport"
			if ce, ok := err.(interface{ Code() string }); ok {
				code = ce.Code()
			}
			rec.Failed(len(b.lines), code)
			return out
		}
		rec.Batch(len(b.lines), d, out)
		if cfg.Record {
			cp := make([]byte, 0, len(b.buf))
			cp = append(cp, b.buf...)
			ackMu.Lock()
			acked = append(acked, cp)
			ackMu.Unlock()
		}
		return out
	}

	// Sampler and progress.
	done := make(chan struct{})
	var samplerWG sync.WaitGroup
	samplerWG.Add(1)
	go func() {
		defer samplerWG.Done()
		tick := time.NewTicker(cfg.SampleEvery)
		defer tick.Stop()
		lastProgress := start
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				runtime.ReadMemStats(&ms)
				s := rec.Tick(now, ms.HeapInuse)
				if cfg.Progress != nil && (cfg.ProgressTTY || now.Sub(lastProgress) >= cfg.ProgressEvery) {
					lastProgress = now
					tot := rec.Totals()
					line := fmt.Sprintf("%s %6.1fs  %8d/%d cmds  %9.0f cmd/s  p99 %7.2f ms  errors %d  late %d  dropped %d",
						t.Name(), s.T, tot.Commands+tot.Failed, cfg.Count, s.Rate, s.P99, tot.Rejected+tot.Failed, tot.Late, tot.Dropped)
					if cfg.ProgressTTY {
						fmt.Fprintf(cfg.Progress, "\r\033[K%s", line)
					} else {
						fmt.Fprintln(cfg.Progress, line)
					}
				}
			}
		}
	}()

	var wg sync.WaitGroup
	mode := "closed"
	if cfg.Rate <= 0 {
		// Closed loop: each client sends its next batch as soon as the last returns.
		for c := 0; c < cfg.Clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var dst []byte
				for b := range ready {
					if ctx.Err() != nil {
						continue
					}
					t0 := time.Now()
					dst = submit(b, dst, func() time.Duration { return time.Since(t0) })
					select {
					case free <- b:
					default:
					}
				}
			}()
		}
	} else {
		// Open loop: a dispatcher releases batch k at start + k·Batch/Rate to
		// the senders; latency counts from that intended time.
		mode = "open"
		interval := time.Duration(float64(cfg.Batch) / cfg.Rate * float64(time.Second))
		queue := make(chan *batch, cfg.Clients*64+1024)
		for c := 0; c < cfg.Clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var dst []byte
				for b := range queue {
					now := time.Now()
					behind := now.Sub(b.intended)
					switch {
					case behind > cfg.MaxBacklog || ctx.Err() != nil:
						rec.Dropped(len(b.lines))
					default:
						if behind > cfg.LateAfter {
							rec.Late(len(b.lines))
						}
						intended := b.intended
						dst = submit(b, dst, func() time.Duration { return time.Since(intended) })
					}
					select {
					case free <- b:
					default:
					}
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(queue)
			k := int64(0)
			for b := range ready {
				b.intended = start.Add(time.Duration(k) * interval)
				k++
				if d := time.Until(b.intended); d > 0 {
					timer := time.NewTimer(d)
					select {
					case <-timer.C:
					case <-ctx.Done():
						timer.Stop()
					}
				}
				select {
				case queue <- b:
				default:
					// Every sender is busy and the queue is full: the target
					// cannot keep up; the batch is dropped, as a real open
					// system would lose or shed it.
					rec.Dropped(len(b.lines))
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(done)
	samplerWG.Wait()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rec.Tick(time.Now(), ms.HeapInuse)
	if cfg.Progress != nil && cfg.ProgressTTY {
		fmt.Fprintln(cfg.Progress)
	}
	out := &Outcome{Target: t.Name(), Mode: mode, Start: start, Elapsed: elapsed, Totals: rec.Totals(),
		Series: rec.Series(), Acked: acked, Program: program}
	out.Resource = res.finish(t)
	return out, ctx.Err()
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
