package faultinject

import (
	"encoding/json"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Rules is the content of the faults control file (see the package
// documentation).
type Rules struct {
	Block   []string           `json:"block,omitempty"`
	Drop    map[string]float64 `json:"drop,omitempty"`
	DelayMS map[string]int     `json:"delay_ms,omitempty"`
	// DiskDelayMS is added before every durable write of the Raft log and
	// stable store and before a snapshot is committed.
	DiskDelayMS int `json:"disk_delay_ms,omitempty"`
	// ClockOffsetMS shifts every reading of the node's wall clock
	// (raft.Seams.Clock): what it stamps and what peers sampling its clock
	// are told. Negative: behind.
	ClockOffsetMS int64 `json:"clock_offset_ms,omitempty"`
}

func (r *Rules) blocked(peer string) bool {
	if r == nil {
		return false
	}
	for _, b := range r.Block {
		if b == peer || b == "*" {
			return true
		}
	}
	return false
}

func (r *Rules) drop(peer string) float64 {
	if r == nil {
		return 0
	}
	if p, ok := r.Drop[peer]; ok {
		return p
	}
	return r.Drop["*"]
}

func (r *Rules) delay(peer string) time.Duration {
	if r == nil {
		return 0
	}
	if d, ok := r.DelayMS[peer]; ok {
		return time.Duration(d) * time.Millisecond
	}
	return time.Duration(r.DelayMS["*"]) * time.Millisecond
}

func (r *Rules) clockOffset() time.Duration {
	if r == nil {
		return 0
	}
	return time.Duration(r.ClockOffsetMS) * time.Millisecond
}

func (r *Rules) diskDelay() time.Duration {
	if r == nil {
		return 0
	}
	return time.Duration(r.DiskDelayMS) * time.Millisecond
}

// watchPeriod is how often the control file is re-read.
const watchPeriod = 100 * time.Millisecond

// watch holds the current rules of the control file, re-read every
// watchPeriod once started, for the transport (transport.go) and the disk
// (slowdisk.go).
type watch struct {
	file  string
	log   hclog.Logger
	rules atomic.Pointer[Rules]
	last  []byte
	// sleep waits out a disk delay; tests replace it.
	sleep func(time.Duration)

	mu       sync.Mutex
	onChange func(*Rules) // sees every new rule set (the transport's cut)

	stop     chan struct{}
	stopOnce sync.Once
}

// newWatch reads the control file once; start begins the re-reads.
func newWatch(file string, log hclog.Logger) *watch {
	w := &watch{file: file, log: log, sleep: time.Sleep, stop: make(chan struct{})}
	w.load()
	w.log.Warn("fault injection enabled", "file", file)
	return w
}

func (w *watch) start() { go w.run() }

func (w *watch) close() { w.stopOnce.Do(func() { close(w.stop) }) }

// notify makes fn see every new rule set from now on.
func (w *watch) notify(fn func(*Rules)) {
	w.mu.Lock()
	w.onChange = fn
	w.mu.Unlock()
}

func (w *watch) run() {
	t := time.NewTicker(watchPeriod)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.load()
		}
	}
}

// load re-reads the control file and, when the rules change, publishes
// them and tells onChange.
func (w *watch) load() {
	b, err := os.ReadFile(w.file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		w.log.Warn("faults file unreadable", "err", err)
		return
	}
	if string(b) == string(w.last) && w.rules.Load() != nil {
		return
	}
	r := &Rules{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, r); err != nil {
			w.log.Warn("faults file malformed, keeping the previous rules", "err", err)
			w.last = b
			return
		}
	}
	w.last = b
	w.rules.Store(r)
	w.log.Warn("fault rules", "block", r.Block, "drop", r.Drop, "delay_ms", r.DelayMS, "disk_delay_ms", r.DiskDelayMS, "clock_offset_ms", r.ClockOffsetMS)
	w.mu.Lock()
	fn := w.onChange
	w.mu.Unlock()
	if fn != nil {
		fn(r)
	}
}

// now is the node's wall clock, shifted by the current clock offset.
func (w *watch) now() time.Time { return time.Now().Add(w.rules.Load().clockOffset()) }

// diskWait sleeps for the current disk delay, if any.
func (w *watch) diskWait() {
	if d := w.rules.Load().diskDelay(); d > 0 {
		w.sleep(d)
	}
}
