package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/accrual/accrual/raft/faultinject"
)

// The corrupt fault (docs/RELIABILITY.md, "Corrupted disks"): a node is
// stopped, one byte of one of its files is flipped (the file kinds of
// corruptKinds in turn; the leader every other time), and it is
// started again. It must either come back (a damaged snapshot its log
// covers; a damaged ledger WAL, which is a torn tail to Pebble and
// re-appended from the Raft log, from an older snapshot when the damage
// reaches below the newest: the run's end compares every ledger's digest)
// or refuse to start with a message that names the damage
// ("is damaged"); a refused node is rejoined as a new member, the
// documented procedure: removed from the cluster, its data set aside,
// started empty with --join, caught up by snapshot.

// corruptKinds are the file kinds the fault damages: those a node checks
// whole at open. A ledger table is checked block by block when read
// (docs/RELIABILITY.md), so a node may start on one and stop at the first
// read of the damaged block, which a short run may never make.
var corruptKinds = []faultinject.FileKind{faultinject.RaftLogTable, faultinject.RaftLogWAL,
	faultinject.LedgerWAL, faultinject.Snapshot, faultinject.Members}

// refusalWait bounds the wait for a restarted node to refuse or to be
// ready. Open checks the files before Raft starts: within a second on a
// quiet machine, but past 5 s on two cores shared with three loaded
// nodes, where a fixed 5-s wait took a node still opening for recovered.
const refusalWait = time.Minute

// nodeData are the entries of a node's data directory that hold its
// state; a rejoin sets them aside and keeps the rest (API keys, the
// journal of applied logs that checkReplay reads, the faults file).
var nodeData = []string{"raft", "ledger", "snapshots", "snapshots-damaged", "snapshots-ahead-of-ledger", "cluster-id", "cluster-members"}

func (r *runner) corruptNode(ctx context.Context, pick int) {
	n := r.rep.Faults[Corrupt]
	if li := r.c.leader(ctx); li >= 0 && n%2 == 0 {
		pick = li
	}
	p := r.c.procs[pick]
	kind := corruptKinds[n%len(corruptKinds)]
	p.signal(syscall.SIGTERM, 5*time.Second)
	path, err := faultinject.Corrupt(p.data, kind)
	if err != nil {
		r.logf("fault %s: %s has no %s to damage yet (%v); restarted as it was", Corrupt, p.id, kind, err)
		if err := p.start(); err != nil {
			r.fatalf("restart %s: %v", p.id, err)
		}
		return
	}
	r.logf("fault %s: flipped a byte of %s's %s (%s), restarting it", Corrupt, p.id, kind, path)
	logStart := fileSize(p.logPath)
	if err := p.start(); err != nil {
		r.fatalf("restart %s: %v", p.id, err)
	}
	for start := time.Now(); p.running() && !r.ready(ctx, p) && time.Since(start) < refusalWait; {
		sleep(ctx, 100*time.Millisecond)
	}
	if p.running() {
		if kind != faultinject.Snapshot && kind != faultinject.LedgerWAL {
			r.rep.fail("corrupt: %s started on a damaged %s (%s)", p.id, kind, path)
		}
		r.logf("fault %s: %s started on its damaged %s: recovered (checked at the end)", Corrupt, p.id, kind)
		return
	}
	p.signal(syscall.SIGKILL, time.Second) // reap: forget the exited command
	if out := readFrom(p.logPath, logStart); !bytes.Contains(out, []byte("is damaged")) {
		r.rep.fail("corrupt: %s exited after a damaged %s without saying so", p.id, kind)
		r.logf("fault %s: %s exited without naming the damage; its output: %s", Corrupt, p.id, tail(out, 600))
	}
	r.logf("fault %s: %s refused to start on its damaged %s; rejoining it as a new member", Corrupt, p.id, kind)
	if err := r.rejoin(ctx, p); err != nil {
		r.fatalf("rejoin %s: %v", p.id, err)
	}
}

// ready reports whether p answers GET /readyz with 200: its state is
// loaded and it knows a leader.
func (r *runner) ready(ctx context.Context, p *proc) bool {
	code, _, _ := r.c.do(ctx, "GET", r.c.url(p)+"/readyz", nil)
	return code == 200
}

// rejoin removes p from the cluster, sets its data aside and starts it
// empty with --join. The removal commits once the other voters hold it,
// and one of them may still be installing a snapshot (a node rejoined
// before): it is retried for recoverWait, and an earlier try whose answer
// was lost counts once the leader's configuration no longer has p. Until
// it succeeds, p is marked for rejoining, so that heal does not restart it
// on the data it refused.
func (r *runner) rejoin(ctx context.Context, p *proc) error {
	p.mustRejoin = true
	body, _ := json.Marshal(map[string]string{"id": p.id})
	var leaderURL string
	for deadline := time.Now().Add(recoverWait); ; {
		if li := r.c.leader(ctx); li >= 0 && r.c.procs[li] != p {
			leaderURL = r.c.url(r.c.procs[li])
			code, _, _ := r.c.do(ctx, "POST", leaderURL+"/v1/cluster/remove", body)
			if code/100 == 2 || r.removed(ctx, r.c.procs[li], p.id) {
				break
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("no leader removed %s within %s", p.id, recoverWait)
		}
		sleep(ctx, 200*time.Millisecond)
	}
	if err := r.setAside(p, "damaged"); err != nil {
		return err
	}
	saved := p.args
	p.args = append(append([]string{}, saved...), "--join", leaderURL, "--join-key", r.c.key)
	err := p.start()
	p.args = saved
	if err == nil {
		p.mustRejoin = false
	}
	return err
}

// removed reports whether the leader's configuration no longer has id.
func (r *runner) removed(ctx context.Context, leader *proc, id string) bool {
	s, ok := r.c.status(ctx, leader)
	if !ok || s.State != "Leader" {
		return false
	}
	for _, srv := range s.Servers {
		if srv.ID == id {
			return false
		}
	}
	return true
}

// setAside moves p's state (nodeData) into DATA/<prefix>-<starts>, as a
// lost or replaced disk would leave the directory. Only the newest state
// set aside is kept: a 30-minute run sets aside a few dozen, each as large
// as a node's data, and filled the disk.
func (r *runner) setAside(p *proc, prefix string) error {
	for _, old := range setAsideDirs(p.data) {
		if err := os.RemoveAll(old); err != nil {
			return err
		}
	}
	aside := filepath.Join(p.data, fmt.Sprintf("%s-%d", prefix, p.starts))
	if err := os.MkdirAll(aside, 0o700); err != nil {
		return err
	}
	for _, name := range nodeData {
		if err := os.Rename(filepath.Join(p.data, name), filepath.Join(aside, name)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// setAsideDirs are the states setAside left in a node's data directory.
func setAsideDirs(data string) []string {
	wiped, _ := filepath.Glob(filepath.Join(data, "wiped-*"))
	damaged, _ := filepath.Glob(filepath.Join(data, "damaged-*"))
	return append(wiped, damaged...)
}

func fileSize(path string) int64 {
	info, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return info.Size()
}

// readFrom is the file from offset on.
func readFrom(path string, offset int64) []byte {
	b, _ := os.ReadFile(path)
	if offset > int64(len(b)) {
		return nil
	}
	return b[offset:]
}

func tail(b []byte, n int) []byte {
	return b[max(0, len(b)-n):]
}
