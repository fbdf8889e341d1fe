package raft

// The cluster clock. A leader stamps time into the log: the ticks that
// mature and expire lots, a missing `at`, the at_in_future bound. One
// machine's wall clock is not to be trusted with that (a bad NTP server, a
// VM restored with an old clock): a year ahead, one tick would expire a
// year of lots on every replica, for good. So, as TigerBeetle's cluster
// clock does, every node samples its peers' wall clocks (clocksample.go)
// and the time stamped is one a majority of the voters' clocks agree on
// within a tolerance, found with Marzullo's interval intersection. When no
// majority agrees, or this node's own clock is off the agreed time by more
// than the tolerance, the node is unsynchronized: as leader it stops
// ticking and stamping (commands with their own `at` still apply) until
// the clocks agree again or another leader takes over.
//
// A source's reading is kept as "its wall clock at this node's monotonic
// zero" (an interval, widened by the round trip), so a jump of this node's
// wall clock shows at once as a disagreement with the peers' samples,
// while the time stamped runs on the monotonic clock, which never jumps.

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// DefaultClockToleranceMS is how far a node's wall clock may be from the
// time a majority agrees on before a leader stops stamping time: well
// above NTP's usual error on a LAN (milliseconds) and a loaded round trip,
// well below anything that matures or expires a lot early by more than a
// moment (lots are dated to the day).
const DefaultClockToleranceMS = 1000

// clockInterval is a source's wall clock at this node's monotonic zero, in
// Unix ms: the true value lies within [lo, hi].
type clockInterval struct{ lo, hi int64 }

// marzullo returns the smallest interval that lies within the most
// source intervals, and how many sources that is (0 for none).
func marzullo(ivs []clockInterval) (best clockInterval, count int) {
	type edge struct {
		at    int64
		delta int // +1 an interval starts, -1 one ends
	}
	edges := make([]edge, 0, 2*len(ivs))
	for _, iv := range ivs {
		edges = append(edges, edge{iv.lo, +1}, edge{iv.hi, -1})
	}
	// Starts before ends at the same point: intervals are closed.
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at != edges[j].at {
			return edges[i].at < edges[j].at
		}
		return edges[i].delta > edges[j].delta
	})
	n := 0
	for i, e := range edges {
		n += e.delta
		if n > count {
			count, best = n, clockInterval{e.at, edges[i+1].at}
		}
	}
	return best, count
}

// ClockStatus is the node's view of the cluster clock (Status.Clock).
type ClockStatus struct {
	// OffsetMS is this node's wall clock minus the time a majority agrees
	// on (0 while no majority agrees).
	OffsetMS int64
	// Synchronized: a majority of the voters' clocks agree within
	// ToleranceMS and this node's is among them. A leader stamps time only
	// while synchronized.
	Synchronized bool
	ToleranceMS  int64
	Agreeing     int // sources (this node included) within the agreed interval
	Voters       int
	// EngineMS is the engine clock (SPEC §1) as of the applied index: the
	// latest time stamped into the log; it never goes back.
	EngineMS int64
}

// peerSample is a peer's clock as last sampled.
type peerSample struct {
	iv     clockInterval
	atMono time.Duration
}

// clusterClock keeps the samples and the agreed time.
type clusterClock struct {
	wall   func() time.Time // the node's wall clock (Seams.Clock)
	base   time.Time        // the monotonic zero, read from the real clock
	tolMS  int64
	maxAge time.Duration // older samples no longer count
	log    hclog.Logger

	mu    sync.Mutex
	peers map[string]peerSample

	agreedMS atomic.Int64 // agreed wall clock at monotonic zero; 0: never agreed
	synced   atomic.Bool
	status   atomic.Pointer[ClockStatus]
}

func newClusterClock(wall func() time.Time, tolMS int64, maxAge time.Duration, log hclog.Logger) *clusterClock {
	c := &clusterClock{wall: wall, base: time.Now(), tolMS: tolMS, maxAge: maxAge, log: log, peers: map[string]peerSample{}}
	c.status.Store(&ClockStatus{ToleranceMS: tolMS})
	return c
}

// mono is the time since the monotonic zero; wall-clock jumps (real or
// injected) do not move it.
func (c *clusterClock) mono() time.Duration { return time.Since(c.base) }

// self is this node's own clock as a source.
func (c *clusterClock) self() clockInterval {
	m := c.mono()
	w := c.wall().UnixMilli() - m.Milliseconds()
	return clockInterval{w, w}
}

// record keeps a peer's sample: its wall clock read wallMS, between this
// node's monotonic readings sent and received.
func (c *clusterClock) record(id string, wallMS int64, sent, received time.Duration) {
	c.mu.Lock()
	c.peers[id] = peerSample{iv: clockInterval{wallMS - received.Milliseconds(), wallMS - sent.Milliseconds()}, atMono: received}
	c.mu.Unlock()
}

// update recomputes the agreed time from this node's clock and the fresh
// samples of the voters (self included when it is one), and logs a change
// of synchronization.
func (c *clusterClock) update(voters []string, selfID string) ClockStatus {
	half := c.tolMS / 2
	now := c.mono()
	self := c.self()
	ivs := []clockInterval{{self.lo - half, self.hi + half}}
	c.mu.Lock()
	for id := range c.peers {
		if !contains(voters, id) {
			delete(c.peers, id)
		}
	}
	for _, id := range voters {
		if s, ok := c.peers[id]; ok && id != selfID && now-s.atMono <= c.maxAge {
			ivs = append(ivs, clockInterval{s.iv.lo - half, s.iv.hi + half})
		}
	}
	c.mu.Unlock()
	nVoters := max(len(voters), 1)
	best, count := marzullo(ivs)
	st := ClockStatus{ToleranceMS: c.tolMS, Agreeing: count, Voters: nVoters}
	if count >= nVoters/2+1 {
		agreed := best.lo + (best.hi-best.lo)/2
		c.agreedMS.Store(agreed)
		st.OffsetMS = self.lo - agreed
		st.Synchronized = abs(st.OffsetMS) <= c.tolMS
	}
	if was := c.synced.Swap(st.Synchronized); was != st.Synchronized {
		c.logChange(st)
	}
	c.status.Store(&st)
	return st
}

func (c *clusterClock) logChange(st ClockStatus) {
	if st.Synchronized {
		c.log.Info("clock synchronized: a majority agrees with this node's clock; a leader stamps time again",
			"offset_ms", st.OffsetMS, "tolerance_ms", st.ToleranceMS)
		return
	}
	c.log.Error("clock unsynchronized: no majority of the voters' clocks agrees with this node's within the tolerance; "+
		"as leader it stops ticking and refuses commands without `at` until they agree",
		"offset_ms", st.OffsetMS, "tolerance_ms", st.ToleranceMS, "agreeing", st.Agreeing, "voters", st.Voters)
}

// now is the cluster's time in Unix ms and whether it may be stamped.
// Once a majority has agreed, the time runs from that agreement on the
// monotonic clock; before, it is this node's wall clock (never stamped:
// not synchronized).
func (c *clusterClock) now() (ms int64, synchronized bool) {
	if a := c.agreedMS.Load(); a != 0 {
		return a + c.mono().Milliseconds(), c.synced.Load()
	}
	return c.wall().UnixMilli(), false
}

func contains(ids []string, id string) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
