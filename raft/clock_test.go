package raft

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

func TestMarzulloFindsTheIntervalMostSourcesShare(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ivs   []clockInterval
		best  clockInterval
		count int
	}{
		{"one source", []clockInterval{{10, 20}}, clockInterval{10, 20}, 1},
		{"all overlap", []clockInterval{{8, 12}, {11, 13}, {10, 12}}, clockInterval{11, 12}, 3},
		{"a year-ahead outlier", []clockInterval{{0, 10}, {5, 15}, {31_536_000_000, 31_536_000_010}}, clockInterval{5, 10}, 2},
		{"touching ends count", []clockInterval{{0, 10}, {10, 20}}, clockInterval{10, 10}, 2},
		{"no two agree", []clockInterval{{0, 1}, {5, 6}, {10, 11}}, clockInterval{0, 1}, 1},
		{"none", nil, clockInterval{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			best, count := marzullo(tc.ivs)
			if best != tc.best || count != tc.count {
				t.Fatalf("got %v ×%d, want %v ×%d", best, count, tc.best, tc.count)
			}
		})
	}
}

// A node is synchronized only while a majority of the voters' clocks
// agrees with its own within the tolerance; alone, it is its own majority.
func TestClusterClockSynchronizedOnlyWithAMajority(t *testing.T) {
	const year = 365 * 24 * time.Hour
	for _, tc := range []struct {
		name   string
		self   time.Duration // this node's wall clock error
		peers  []time.Duration
		voters int
		synced bool
	}{
		{"alone", 0, nil, 1, true},
		{"alone a year ahead", year, nil, 1, true},
		{"peers agree", 0, []time.Duration{200 * time.Millisecond, -300 * time.Millisecond}, 3, true},
		{"a year ahead of two peers", year, []time.Duration{0, 0}, 3, false},
		{"a year behind two peers", -year, []time.Duration{0, 0}, 3, false},
		{"one peer with us, one a year off", 0, []time.Duration{0, year}, 3, true},
		{"no peer sampled yet", 0, nil, 3, false},
		{"beyond the tolerance", 3 * time.Second, []time.Duration{0, 0}, 3, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClusterClock(func() time.Time { return time.Now().Add(tc.self) }, DefaultClockToleranceMS, time.Minute, hclog.NewNullLogger())
			voters := []string{"self", "p0", "p1"}[:tc.voters]
			for i, off := range tc.peers {
				sent := c.mono()
				wall := time.Now().Add(off).UnixMilli()
				c.record(voters[i+1], wall, sent, c.mono())
			}
			st := c.update(voters, "self")
			if st.Synchronized != tc.synced {
				t.Fatalf("synchronized %v, want %v (%+v)", st.Synchronized, tc.synced, st)
			}
			now, ok := c.now()
			if ok != tc.synced {
				t.Fatalf("now() says %v, status %v", ok, tc.synced)
			}
			if d := now - time.Now().Add(tc.self).UnixMilli(); ok && tc.voters > 1 && (d < -100 || d > 100) {
				t.Fatalf("stamped time %d ms off", d)
			}
		})
	}
}

// A leader whose clock jumps a year ahead stamps no tick beyond the
// majority's time: no replica's engine clock moves past it, the leader
// says it is unsynchronized, and ticks resume when its clock is right.
func TestLeaderWithAWrongClockStopsStamping(t *testing.T) {
	p := loadProgram(t, "coalition")
	var offsets [3]atomic.Int64 // ns, per node
	i := 0
	nodes := startCluster(t, p, 3, func(c *Config) {
		off := &offsets[i]
		i++
		c.TickInterval = 50 * time.Millisecond
		c.ClockSampleInterval = 50 * time.Millisecond
		c.Seams.Clock = func() time.Time { return time.Now().Add(time.Duration(off.Load())) }
	})
	defer closeAll(nodes)
	l := waitLeader(t, nodes...)
	li := 0
	for i, n := range nodes {
		if n == l {
			li = i
		}
	}
	waitFor(t, "synchronized ticks", 10*time.Second, func() bool {
		_, ok := l.ClusterTime()
		return ok && l.ClockMS() > time.Now().Add(-time.Second).UnixMilli()
	})
	offsets[li].Store(int64(365 * 24 * time.Hour))
	waitFor(t, "the leader unsynchronized", 5*time.Second, func() bool { return !l.Clock().Synchronized })
	time.Sleep(500 * time.Millisecond) // ten ticks' worth
	limit := time.Now().Add(time.Duration(DefaultClockToleranceMS) * time.Millisecond).UnixMilli()
	for _, n := range nodes {
		if got := n.ClockMS(); got > limit {
			t.Fatalf("%s: engine clock %d beyond the majority's time %d", n.cfg.NodeID, got, limit)
		}
	}
	if st := l.Status().Clock; st.Synchronized || st.OffsetMS < 364*24*3600*1000 {
		t.Fatalf("leader's clock status %+v", st)
	}
	// Commands with their own `at` still apply.
	if _, err := l.Submit(context.Background(), purchases(t, p, "x", 0, 1)); err != nil && l.IsLeader() {
		t.Fatalf("a command with at, unsynchronized: %v", err)
	}
	offsets[li].Store(0)
	waitFor(t, "synchronized again", 5*time.Second, func() bool { return l.Clock().Synchronized })
	before := l.ClockMS()
	waitFor(t, "ticks again", 5*time.Second, func() bool {
		n := waitLeader(t, nodes...)
		return n.ClockMS() > before
	})
}
