package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"time"

	"github.com/accrual/accrual/raft/faultinject"
)

// Fault kinds, as counted in Report.Faults.
const (
	KillLeader   = "kill-leader"
	KillFollower = "kill-follower"
	Pause        = "pause"
	Partition    = "partition"
	Loss         = "loss-delay"
	SlowDisk     = "slow-disk"
	ClockSkew    = "clock-skew"
	Corrupt      = "corrupt" // corrupt.go
	Wipe         = "wipe"    // wipe.go
)

var faultKinds = []string{KillLeader, KillFollower, Pause, Partition, Loss, SlowDisk, ClockSkew}

// AllKinds is every fault kind, the disk ones (Corrupt, Wipe: a rejoin by
// snapshot each, seconds long) included; a run draws from the default kinds
// unless Config.Kinds says otherwise.
var AllKinds = append(append([]string{}, faultKinds...), Corrupt, Wipe)

// clockSkewsMS are the wall-clock shifts of a clock-skew fault: days and a
// year ahead, a day behind; 0 stands for a slow drift (driftClock).
var clockSkewsMS = []int64{2 * 86_400_000, 365 * 86_400_000, -86_400_000, 0}

// injectFaults injects one fault at a time, at moments and of kinds drawn
// from the seed, until ctx ends. Each fault lasts 0.3 … 3 s and is undone
// (restart, SIGCONT, healed network, normal disk) before the next one.
func (r *runner) injectFaults(ctx context.Context) {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, 0xfa017))
	n := len(r.c.procs)
	for {
		gap := r.cfg.MinGap + time.Duration(rng.Int64N(int64(r.cfg.MaxGap-r.cfg.MinGap)+1))
		sleep(ctx, gap)
		if ctx.Err() != nil {
			return
		}
		kinds := r.cfg.Kinds
		if len(kinds) == 0 {
			kinds = faultKinds
		}
		kind := kinds[rng.IntN(len(kinds))]
		hold := 300*time.Millisecond + time.Duration(rng.Int64N(int64(2700*time.Millisecond)))
		pick := rng.IntN(n) // a node, when the kind does not choose one
		if r.inject(ctx, rng, kind, pick, hold) {
			r.rep.Faults[kind]++
		}
	}
}

// inject injects one fault of kind on node pick (when the kind does not
// choose its node) for hold, and undoes it; it reports false when the
// fault was skipped.
func (r *runner) inject(ctx context.Context, rng *rand.Rand, kind string, pick int, hold time.Duration) bool {
	switch kind {
	case KillLeader, KillFollower:
		r.kill(ctx, rng, kind, pick, hold)
	case Pause:
		p := r.c.procs[pick]
		r.logf("fault %s: SIGSTOP %s for %s", kind, p.id, hold)
		p.signal(syscall.SIGSTOP, 0)
		sleep(ctx, hold)
		p.signal(syscall.SIGCONT, 0)
	case Partition:
		r.partition(ctx, pick, hold)
	case Loss:
		drop := 0.01 + rng.Float64()*0.09
		delay := 1 + rng.IntN(30)
		r.logf("fault %s: drop %.0f%% of messages, delay %d ms, for %s", kind, drop*100, delay, hold)
		for _, p := range r.c.procs {
			r.writeFaults(p, faultinject.Rules{Drop: map[string]float64{"*": drop}, DelayMS: map[string]int{"*": delay}})
		}
		sleep(ctx, hold)
		r.clearFaults()
	case SlowDisk:
		p := r.c.procs[pick]
		delay := 20 + rng.IntN(181)
		r.logf("fault %s: %s's Raft log and snapshot writes take %d ms longer, for %s", kind, p.id, delay, hold)
		r.writeFaults(p, faultinject.Rules{DiskDelayMS: delay})
		sleep(ctx, hold)
		r.clearFaults()
	case ClockSkew:
		r.skewClock(ctx, rng, pick, hold)
	case Corrupt, Wipe:
		if !r.awaitRecovered(ctx) {
			if ctx.Err() == nil {
				r.logf("fault %s: skipped: the cluster has not recovered from the last faults within %s", kind, recoverWait)
			}
			return false
		}
		// Both end with a repair (a rejoin) that must run whole even when
		// the fault phase ends meanwhile: half done, it leaves an empty
		// node under its old id, refused for good. Each step has its own
		// bound.
		if kind == Corrupt {
			r.corruptNode(context.WithoutCancel(ctx), pick)
		} else {
			r.wipeNode(context.WithoutCancel(ctx), pick)
		}
	}
	return true
}

// kill SIGKILLs the leader (KillLeader; pick when there is none) or a
// follower, and restarts it after hold.
func (r *runner) kill(ctx context.Context, rng *rand.Rand, kind string, pick int, hold time.Duration) {
	n := len(r.c.procs)
	li := r.c.leader(ctx)
	victim := pick
	if kind == KillLeader {
		if li < 0 {
			r.logf("fault %s: no leader now, killing n%d instead", kind, pick+1)
		} else {
			victim = li
		}
	} else if li >= 0 && victim == li {
		victim = (li + 1 + rng.IntN(n-1)) % n
	}
	p := r.c.procs[victim]
	r.logf("fault %s: SIGKILL %s, restart in %s", kind, p.id, hold)
	p.signal(syscall.SIGKILL, 5*time.Second)
	sleep(ctx, hold)
	if err := p.start(); err != nil {
		r.fatalf("restart %s: %v", p.id, err)
	}
}

// partition isolates node pick from every peer for hold: it blocks their
// Raft addresses and each of them blocks its own.
func (r *runner) partition(ctx context.Context, pick int, hold time.Duration) {
	iso := r.c.procs[pick]
	r.logf("fault %s: isolate %s for %s", Partition, iso.id, hold)
	for _, p := range r.c.procs {
		var rules faultinject.Rules
		if p == iso {
			for _, q := range r.c.procs {
				if q != iso {
					rules.Block = append(rules.Block, q.raft)
				}
			}
		} else {
			rules.Block = []string{iso.raft}
		}
		r.writeFaults(p, rules)
	}
	sleep(ctx, hold)
	r.clearFaults()
}

// skewClock shifts one node's wall clock (the leader's, half the time)
// for hold: a jump from clockSkewsMS, or a drift of 1 s per 100 ms. The
// cluster clock must keep the leader from stamping it (checkClock).
func (r *runner) skewClock(ctx context.Context, rng *rand.Rand, pick int, hold time.Duration) {
	if li := r.c.leader(ctx); li >= 0 && rng.IntN(2) == 0 {
		pick = li
	}
	p := r.c.procs[pick]
	skew := clockSkewsMS[rng.IntN(len(clockSkewsMS))]
	if skew != 0 {
		r.logf("fault %s: %s's wall clock shifted by %s for %s", ClockSkew, p.id, time.Duration(skew)*time.Millisecond, hold)
		r.writeFaults(p, faultinject.Rules{ClockOffsetMS: skew})
		sleep(ctx, hold)
	} else {
		r.logf("fault %s: %s's wall clock drifts ahead 1 s every 100 ms for %s", ClockSkew, p.id, hold)
		for start := time.Now(); time.Since(start) < hold && ctx.Err() == nil; {
			r.writeFaults(p, faultinject.Rules{ClockOffsetMS: time.Since(start).Milliseconds() * 10})
			sleep(ctx, 100*time.Millisecond)
		}
	}
	r.clearFaults()
}

func (r *runner) writeFaults(p *proc, rules faultinject.Rules) {
	if err := p.writeFaults(rules); err != nil {
		r.fatalf("faults file of %s: %v", p.id, err)
	}
}

func (r *runner) clearFaults() {
	for _, p := range r.c.procs {
		r.writeFaults(p, faultinject.Rules{})
	}
}

const healTimeout = 2 * time.Minute

// heal undoes every fault: no network rules, paused nodes continued, dead
// nodes restarted; then waits for a leader that all nodes know.
func (r *runner) heal(ctx context.Context) error {
	r.clearFaults()
	for _, p := range r.c.procs {
		if p.isPaused() {
			p.signal(syscall.SIGCONT, 0)
		}
		if p.mustRejoin {
			r.logf("heal: rejoining %s as a new member", p.id)
			if err := r.rejoin(ctx, p); err != nil {
				return err
			}
			continue
		}
		if !p.running() {
			r.logf("heal: restarting %s", p.id)
			if err := p.start(); err != nil {
				return err
			}
		}
	}
	// A node restarted at the end of a long run restores a large snapshot
	// and replays its log before it answers: allow it two minutes.
	start := time.Now()
	deadline := start.Add(healTimeout)
	for time.Now().Before(deadline) {
		known := 0
		for _, p := range r.c.procs {
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			s, ok := r.c.status(cctx, p)
			cancel()
			if ok && s.LeaderID != "" {
				known++
			}
		}
		if known == len(r.c.procs) {
			r.logf("healed: every node knows a leader after %s", time.Since(start).Round(time.Millisecond))
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no leader known to all nodes %s after healing", healTimeout)
}

// recoverWait bounds awaitRecovered: a rejoined node of a long run
// installs a snapshot of a few hundred MB.
const recoverWait = 2 * time.Minute

// awaitRecovered waits until every node is a member of the leader's
// configuration and has applied what the leader had committed when the
// wait began. A fault that destroys a node's data (corrupt, wipe) is only
// survivable when the others hold everything: three nodes tolerate one
// node without its data, not a second one while the first catches up,
// nor the loss of a member while the configuration is down to two
// (remove, then add). It reports false when recoverWait passes first.
func (r *runner) awaitRecovered(ctx context.Context) bool {
	var target uint64
	for deadline := time.Now().Add(recoverWait); time.Now().Before(deadline) && ctx.Err() == nil; sleep(ctx, 200*time.Millisecond) {
		li := r.c.leader(ctx)
		if li < 0 {
			continue
		}
		ls, ok := r.c.status(ctx, r.c.procs[li])
		if !ok || len(ls.Servers) != len(r.c.procs) {
			continue
		}
		if target == 0 {
			target = ls.CommitIndex
		}
		caughtUp := 0
		for _, p := range r.c.procs {
			if s, ok := r.c.status(ctx, p); ok && s.AppliedIndex >= target && s.LeaderID != "" {
				caughtUp++
			}
		}
		if caughtUp == len(r.c.procs) {
			return true
		}
	}
	return false
}
