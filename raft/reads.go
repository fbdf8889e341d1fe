package raft

import (
	"context"
	"sync"
	"time"

	"github.com/accrual/accrual/engine"
	hraft "github.com/hashicorp/raft"
)

// Consistency selects how fresh a read must be.
type Consistency uint8

const (
	// Linearizable: the leader notes its commit index, confirms it is still
	// leader with a heartbeat round (shared among concurrent reads), and
	// waits until that index is applied.
	Linearizable Consistency = iota
	// Leader: served by a node that believes it is the leader (and has
	// applied everything of earlier terms); may be stale during a partition
	// for up to an election timeout.
	Leader
	// Stale: any node's published views.
	Stale
)

func (c Consistency) String() string {
	switch c {
	case Linearizable:
		return "linearizable"
	case Leader:
		return "leader"
	case Stale:
		return "stale"
	}
	return "unknown"
}

// Member returns a member's published view, the applied index it reflects
// at least, and whether the member exists.
func (n *Node) Member(name string, c Consistency) (engine.MemberView, uint64, bool, error) {
	return n.MemberContext(context.Background(), name, c)
}

// MemberContext is Member with a context bounding the linearizable wait
// (without a deadline, ApplyTimeout bounds it).
func (n *Node) MemberContext(ctx context.Context, name string, c Consistency) (engine.MemberView, uint64, bool, error) {
	if c != Stale {
		if err := n.readBarrier(ctx, c); err != nil {
			return engine.MemberView{}, 0, false, err
		}
	}
	applied := n.fsm.applied.Load()
	v, ok := n.fsm.views.get(name)
	return v, applied, ok, nil
}

// ReadIndex makes the reads that follow at least as fresh as consistency c
// requires (nothing for Stale) and returns the applied index.
func (n *Node) ReadIndex(ctx context.Context, c Consistency) (uint64, error) {
	if c != Stale {
		if err := n.readBarrier(ctx, c); err != nil {
			return 0, err
		}
	}
	return n.fsm.applied.Load(), nil
}

func (n *Node) readBarrier(ctx context.Context, c Consistency) error {
	term := n.raft.CurrentTerm()
	if n.raft.State() != hraft.Leader || n.readyTerm.Load() != term {
		return n.notLeader()
	}
	if c == Leader {
		return nil
	}
	idx := n.raft.CommitIndex()
	if err := n.verifier.verify(); err != nil {
		return n.mapErr(err)
	}
	if n.raft.CurrentTerm() != term {
		return n.notLeader()
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, n.cfg.ApplyTimeout)
		defer cancel()
	}
	for n.fsm.applied.Load() < idx {
		ch := n.fsm.notify.wait()
		if n.fsm.applied.Load() >= idx {
			break
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-n.stop:
			return ErrClosed
		}
	}
	return nil
}

// verifier shares VerifyLeader rounds among concurrent readers: a reader
// joins the next round to start (never one already running, which may have
// started before the reader noted its commit index), so each round is one
// heartbeat round for any number of readers.
type verifier struct {
	r       *hraft.Raft
	mu      sync.Mutex
	running bool
	next    *verifyRound
}

type verifyRound struct {
	done chan struct{}
	err  error
}

func (v *verifier) verify() error {
	v.mu.Lock()
	if v.next == nil {
		v.next = &verifyRound{done: make(chan struct{})}
	}
	rd := v.next
	if !v.running {
		v.running = true
		go v.loop()
	}
	v.mu.Unlock()
	<-rd.done
	return rd.err
}

func (v *verifier) loop() {
	for {
		v.mu.Lock()
		rd := v.next
		v.next = nil
		if rd == nil {
			v.running = false
			v.mu.Unlock()
			return
		}
		v.mu.Unlock()
		rd.err = v.r.VerifyLeader().Error()
		close(rd.done)
	}
}

var _ = time.Second

// Quote answers a quote command (SPEC §9.1) on this node's current state
// and returns its JSON result. It never enters the log. It takes the apply
// lock for the microseconds a quote costs, since a quote reads counters the
// published views do not carry (the month's earnings, the first purchase).
func (n *Node) Quote(c *engine.Command) []byte {
	f := n.fsm
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.eng.Quote(c)
	return f.eng.AppendJSON(nil, &r)
}

// Totals returns the program-wide running totals of this node's state.
func (n *Node) Totals() engine.Totals {
	f := n.fsm
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.eng.Totals()
}

// WithEngine runs fn with this node's engine under the apply lock; fn must
// not keep the engine, change it, or take long.
func (n *Node) WithEngine(fn func(e *engine.Engine)) {
	n.fsm.mu.Lock()
	defer n.fsm.mu.Unlock()
	fn(n.fsm.eng)
}
