package raft

import (
	"sync"
	"time"

	hraft "github.com/hashicorp/raft"
)

// clockSampleAge: a peer's sample older than this many sample intervals
// no longer counts (a peer cut off stops vouching for the time).
const clockSampleAge = 5

// runClockSampler samples every peer's clock each ClockSampleInterval and
// updates the cluster clock (clock.go). Every node runs it, leader or not,
// so a new leader has samples at once; it also meets every peer with a
// hello, which keeps the member record (clusterid.go) complete.
func (n *Node) runClockSampler() {
	defer n.wg.Done()
	t := time.NewTicker(n.cfg.ClockSampleInterval)
	defer t.Stop()
	for {
		n.sampleClocks()
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
	}
}

// sampleClocks probes every other server of the configuration at once,
// then recomputes the agreed time over the voters.
func (n *Node) sampleClocks() {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return
	}
	var all, voters []string
	var wg sync.WaitGroup
	for _, sv := range f.Configuration().Servers {
		id := string(sv.ID)
		all = append(all, id)
		if sv.Suffrage == hraft.Voter {
			voters = append(voters, id)
		}
		if id == n.cfg.NodeID {
			continue
		}
		wg.Add(1)
		go func(sv hraft.Server) {
			defer wg.Done()
			n.sampleClock(sv)
		}(sv)
	}
	wg.Wait()
	n.ids.pruneMembers(all)
	if len(voters) == 0 { // no configuration yet: this node alone
		voters = []string{n.cfg.NodeID}
	}
	n.clock.update(voters, n.cfg.NodeID)
}

// sampleClock takes one sample of a peer's clock on a fresh connection of
// the Raft transport's stream layer (TLS and the fault seams included).
func (n *Node) sampleClock(sv hraft.Server) {
	timeout := max(n.cfg.ClockSampleInterval/2, 100*time.Millisecond)
	conn, err := n.probeLayer.Dial(sv.Address, timeout)
	if err != nil {
		n.log.Debug("clock sample: dial failed", "peer", sv.ID, "err", err)
		return
	}
	defer conn.Close()
	p, wallMS, sent, received, err := n.ids.probe(conn, n.clock.mono, timeout)
	if err != nil {
		n.log.Debug("clock sample failed", "peer", sv.ID, "err", err)
		return
	}
	if p.node != string(sv.ID) {
		n.log.Warn("clock sample: the peer at this address has another node id", "want", sv.ID, "got", p.node, "addr", sv.Address)
		return
	}
	n.clock.record(p.node, wallMS, sent, received)
}

// ClusterTime is the time to stamp, in Unix ms (to fill a missing `at`,
// and the bound of at_in_future), and whether it may be stamped: false
// only on a leader whose clock is unsynchronized (clock.go). A follower
// stamps nothing (Submit answers not-leader; the leader stamps the
// resent command), so it never refuses on its own clock's account.
func (n *Node) ClusterTime() (nowMS int64, ok bool) {
	ms, synced := n.clock.now()
	return ms, synced || !n.isLeader()
}

// Clock is the node's view of the cluster clock.
func (n *Node) Clock() ClockStatus {
	st := *n.clock.status.Load()
	st.EngineMS = n.fsm.clockMS.Load()
	return st
}
