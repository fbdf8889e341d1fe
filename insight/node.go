package insight

import (
	"sync"
	"time"

	"github.com/accrual/accrual/engine"
)

// Live is the KPI source of a server node: a Collector fed where the node
// applies commands, and Compute on demand, cached for TTL so that a polling
// console does not scan every member each time.
//
// Wiring on a node (raft FSM), all under the FSM's apply lock:
//
//	live := insight.NewLive(prog, insight.Options{PointValueMinor: 1}, 5*time.Second)
//	// after every f.eng.Apply(f.cmds, …):
//	live.Observe(f.cmds, f.results, f.entries)
//	// after Restore replaced the engine (snapshot install):
//	live.Reset()
//	// KPIs (GET /v1/stats/kpis), e.g. func (n *Node) KPIs() any:
//	return live.KPIs(func(compute func(*engine.Engine) *insight.KPIs) *insight.KPIs {
//		f.mu.Lock(); defer f.mu.Unlock(); return compute(f.eng)
//	})
//
// State figures (members, liability, tiers, points) are always exact; the
// stream figures (activity, retention, churn, spend, tier moves, partners)
// cover what the collector saw since the node started or restored, which
// KPIs.Complete and KPIs.ObservedFrom report.
type Live struct {
	opt Options
	ttl time.Duration

	col *Collector // guarded by the caller's apply lock

	mu   sync.Mutex // guards the cache
	at   time.Time
	last *KPIs
}

// NewLive returns a live KPI source for a node that starts from an empty
// engine (ttl 0: no cache).
func NewLive(p *engine.Program, opt Options, ttl time.Duration) *Live {
	return &Live{opt: opt, ttl: ttl, col: NewCollector(p)}
}

// Observe feeds one applied batch (under the apply lock).
func (l *Live) Observe(cmds []engine.Command, results []engine.Result, entries []engine.Entry) {
	l.col.Observe(cmds, results, entries)
}

// Reset forgets the stream (the engine was replaced by a snapshot); the
// next report is marked incomplete.
func (l *Live) Reset() {
	l.col = NewCollector(l.col.prog)
	l.col.firstMS = noTime
	l.col.partial = true
}

// KPIs returns the cached report or computes a new one. locked must call
// its argument with the node's engine while holding the apply lock.
func (l *Live) KPIs(locked func(compute func(*engine.Engine) *KPIs) *KPIs) *KPIs {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last != nil && l.ttl > 0 && time.Since(l.at) < l.ttl {
		return l.last
	}
	l.last = locked(func(e *engine.Engine) *KPIs { return Compute(l.col, e, l.opt) })
	l.at = time.Now()
	return l.last
}
