package raft

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/raft/codec"
	hraft "github.com/hashicorp/raft"
)

// request is one chunk of one Submit call: its commands, encoded.
type request struct {
	data  []byte
	count int
	done  chan reply // buffered 1
}

type reply struct {
	ndjson []byte
	err    error
}

// inflightEntry is one proposed Raft entry and the requests it carries.
type inflightEntry struct {
	f    hraft.ApplyFuture
	reqs []*request
}

// Submit proposes valid commands and returns their results as NDJSON, one
// line per command, in order. It returns once the commands are committed
// and applied. Errors: *NotLeaderError (errors.Is ErrNotLeader),
// ErrOverloaded, *DiskFullError (errors.Is ErrDiskFull; nothing was
// proposed), ErrClosed, ErrUnknownOutcome (leadership lost in flight: retry
// with the same ids), ctx.Err(). A Submit larger than one entry
// (MaxBatchCommands / MaxBatchBytes) is split into consecutive chunks; on an
// error some chunks may have been applied (retrying is safe: ids are
// idempotent). The returned slice may share memory with other callers'
// results: do not modify it.
func (n *Node) Submit(ctx context.Context, cmds []engine.Command) ([]byte, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p := n.fsm.fatal.Load(); p != nil {
		return nil, *p
	}
	if n.raft.State() != hraft.Leader {
		return nil, n.notLeader()
	}
	// Before the queue: a refused command changes nothing, its id stays free.
	if err := n.disk.admit(); err != nil {
		return nil, err
	}
	if len(cmds) > n.cfg.MaxQueue {
		return nil, ErrOverloaded
	}
	if q := n.queued.Add(int64(len(cmds))); q > int64(n.cfg.MaxQueue) {
		n.queued.Add(-int64(len(cmds)))
		return nil, ErrOverloaded
	}
	// Encode, cutting chunks at the per-entry limits.
	var reqs []*request
	start := 0
	for start < len(cmds) {
		req := &request{done: make(chan reply, 1)}
		req.data = make([]byte, 0, min(len(cmds)-start, n.cfg.MaxBatchCommands)*96)
		i := start
		for i < len(cmds) && i-start < n.cfg.MaxBatchCommands && len(req.data) < n.cfg.MaxBatchBytes {
			req.data = engine.AppendBinary(req.data, &cmds[i])
			i++
		}
		req.count = i - start
		reqs = append(reqs, req)
		start = i
	}
	n.closeMu.RLock()
	if n.closed {
		n.closeMu.RUnlock()
		n.queued.Add(-int64(len(cmds)))
		return nil, ErrClosed
	}
	for _, req := range reqs {
		// Never blocks: queued ≤ MaxQueue commands and cap(queue) = MaxQueue.
		n.queue <- req
	}
	n.closeMu.RUnlock()

	var out []byte
	for i, req := range reqs {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case r := <-req.done:
			if r.err != nil {
				return nil, r.err
			}
			if len(reqs) == 1 {
				return r.ndjson, nil
			}
			if i == 0 {
				out = make([]byte, 0, len(r.ndjson)*len(reqs))
			}
			out = append(out, r.ndjson...)
		}
	}
	return out, nil
}

func (n *Node) answer(req *request, ndjson []byte, err error) {
	n.queued.Add(-int64(req.count))
	req.done <- reply{ndjson: ndjson, err: err}
}

// runBatcher is the group commit: it gathers queued requests into one Raft
// entry of at most MaxBatchCommands commands / MaxBatchBytes bytes. When no
// entry is in flight it proposes at once (lowest latency when idle); while
// Raft is busy it waits up to BatchWindow for the entry to fill.
func (n *Node) runBatcher() {
	defer n.wg.Done()
	var carry *request
	payload := make([]byte, 0, n.cfg.MaxBatchBytes+binary.MaxVarintLen64)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-n.queue:
			case <-n.stop:
				return
			}
		}
		reqs := []*request{first}
		cmds, size := first.count, len(first.data)
		fits := func(r *request) bool {
			if cmds+r.count > n.cfg.MaxBatchCommands || size+len(r.data) > n.cfg.MaxBatchBytes {
				carry = r
				return false
			}
			reqs = append(reqs, r)
			cmds += r.count
			size += len(r.data)
			return true
		}
		timerOn := false
	gather:
		for cmds < n.cfg.MaxBatchCommands && size < n.cfg.MaxBatchBytes {
			select {
			case r := <-n.queue:
				if !fits(r) {
					break gather
				}
				continue
			default:
			}
			if n.inflight.Load() == 0 {
				break
			}
			if !timerOn {
				timer.Reset(n.cfg.BatchWindow)
				timerOn = true
			}
			select {
			case r := <-n.queue:
				if !fits(r) {
					break gather
				}
			case <-timer.C:
				timerOn = false
				break gather
			case <-n.stop:
				break gather
			}
		}
		if timerOn && !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		payload = binary.AppendUvarint(payload[:0], uint64(cmds))
		for _, r := range reqs {
			payload = append(payload, r.data...)
			r.data = nil
		}
		// A fresh slice per entry: Raft's log cache keeps a reference.
		entry := make([]byte, 1, 1+len(payload)/2+64)
		entry[0] = entryCommands
		entry = codec.Compress(entry, payload)
		n.inflight.Add(1)
		f := n.raft.Apply(entry, n.cfg.ApplyTimeout)
		n.waitq <- inflightEntry{f: f, reqs: reqs}
	}
}

// futureError waits for a proposal's outcome. hraft can leave a future
// that was queued but never dispatched unanswered after Shutdown, so once
// Raft is down the wait ends with ErrClosed (outcome unknown: the caller
// retries under the same ids). The helper goroutine of such a future is
// left behind; there is at most one per entry in flight at shutdown.
func (n *Node) futureError(f hraft.ApplyFuture) error {
	errc := make(chan error, 1)
	go func() { errc <- f.Error() }()
	select {
	case err := <-errc:
		return err
	case <-n.raftDown:
		select {
		case err := <-errc:
			return err
		case <-time.After(100 * time.Millisecond):
			return ErrClosed
		}
	}
}

// runWaiter answers requests in log order as their entries are applied.
func (n *Node) runWaiter() {
	defer n.waiterWG.Done()
	for e := range n.waitq {
		err := n.futureError(e.f)
		var resp *entryResponse
		if err == nil {
			resp, _ = e.f.Response().(*entryResponse)
			switch {
			case resp == nil:
				// Applied after this node stepped down: results not rendered.
				err = ErrUnknownOutcome
			case resp.err != nil:
				err = resp.err
			}
		} else {
			err = n.mapErr(err)
		}
		off, line := int32(0), 0
		for _, r := range e.reqs {
			if err != nil {
				n.answer(r, nil, err)
				continue
			}
			end := resp.ends[line+r.count-1]
			n.answer(r, resp.ndjson[off:end:end], nil)
			off, line = end, line+r.count
		}
		n.inflight.Add(-1)
	}
}
