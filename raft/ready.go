package raft

// Readiness. Right after Open a node serves nothing it can stand behind:
// hraft has restored the latest snapshot, but it applies the log after it
// only once it learns the commit index (from a leader, or by winning an
// election), so for a moment the views, the stats and the KPIs show an
// older state, or the empty one. A node is ready once
//
//   - its state machine has applied the last state-changing entry its log
//     held at Open (or the snapshot's index when none follows it): what it
//     held before the restart is back;
//   - on a node that had nothing (one joining), it has applied something:
//     the genesis entry or a snapshot from the leader;
//   - a leader is known: another node, or this one once it has passed its
//     barrier and takes writes (IsLeader).
//
// Readiness is latched: once ready, a node stays ready while a later
// election runs (stale reads are for exactly those moments).

import (
	"context"
	"time"

	hraft "github.com/hashicorp/raft"
)

// readyPoll is how often WaitReady looks again.
const readyPoll = 20 * time.Millisecond

// lastStateIndex is the index of the last entry in the log that the state
// machine applies (a command, register, program or genesis entry), else the
// latest snapshot's index: what the node held when it was opened. hraft's
// no-ops and configuration entries never reach ApplyBatch, so the applied
// index would never reach them.
func lastStateIndex(logs hraft.LogStore, snaps hraft.SnapshotStore) (uint64, error) {
	var snapIndex uint64
	metas, err := snaps.List()
	if err != nil {
		return 0, err
	}
	if len(metas) > 0 {
		snapIndex = metas[0].Index
	}
	last, err := logs.LastIndex()
	if err != nil {
		return 0, err
	}
	for i := last; i > snapIndex; i-- {
		var l hraft.Log
		if err := logs.GetLog(i, &l); err != nil {
			return 0, err
		}
		if l.Type == hraft.LogCommand {
			return i, nil
		}
	}
	return snapIndex, nil
}

// Ready reports whether the node has loaded its state and knows a leader
// (see above). Once true it stays true.
func (n *Node) Ready() bool {
	if n.ready.Load() {
		return true
	}
	if n.fsm.applied.Load() < max(n.readyAt, 1) {
		return false
	}
	if _, id := n.raft.LeaderWithID(); id == "" || id == hraft.ServerID(n.cfg.NodeID) && !n.IsLeader() {
		return false // no leader, or this one before its barrier: no write would be taken
	}
	n.ready.Store(true)
	return true
}

// WaitReady returns once the node is Ready, or ctx's error.
func (n *Node) WaitReady(ctx context.Context) error {
	t := time.NewTicker(readyPoll)
	defer t.Stop()
	for !n.Ready() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-n.stop:
			return ErrClosed
		case <-t.C:
		}
	}
	return nil
}
