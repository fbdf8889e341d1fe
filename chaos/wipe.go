package chaos

import (
	"bytes"
	"context"
	"syscall"
	"time"
)

// The wipe fault (docs/RELIABILITY.md, "A node that lost its data"): a
// node is killed, the state in its data directory set aside as a replaced
// disk would lose it, and it is started again, empty, under its old id.
// The cluster must refuse it (it would otherwise vote and count in a
// quorum without what it acknowledged); both sides log the refusal. Then
// the harness follows the documented procedure (rejoin: removed, started
// with --join, caught up by snapshot) and the run's end checks that every
// node agrees and nothing acknowledged was lost.

// wipeRefusalWait bounds the wait for the refusal: the leader dials every
// peer with its heartbeats, so a refused hello comes within a second or two.
const wipeRefusalWait = 10 * time.Second

func (r *runner) wipeNode(ctx context.Context, pick int) {
	p := r.c.procs[pick]
	p.signal(syscall.SIGKILL, time.Second)
	if err := r.setAside(p, "wiped"); err != nil {
		r.fatalf("wipe %s: %v", p.id, err)
	}
	r.logf("fault %s: %s killed, its data directory's state set aside; restarting it empty under its id", Wipe, p.id)
	logStart := fileSize(p.logPath)
	if err := p.start(); err != nil {
		r.fatalf("restart %s: %v", p.id, err)
	}
	refused := false
	for start := time.Now(); !refused && time.Since(start) < wipeRefusalWait && ctx.Err() == nil; {
		sleep(ctx, 200*time.Millisecond)
		refused = bytes.Contains(readFrom(p.logPath, logStart), []byte("the cluster refuses this node"))
	}
	if !refused && ctx.Err() == nil {
		r.rep.fail("wipe: %s restarted empty under its old id and was not refused within %s", p.id, wipeRefusalWait)
	}
	p.signal(syscall.SIGKILL, time.Second)
	r.logf("fault %s: %s refused (%v); rejoining it as a new member", Wipe, p.id, refused)
	if err := r.rejoin(ctx, p); err != nil {
		r.fatalf("rejoin %s: %v", p.id, err)
	}
}
