package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Crash-point tests (raft/crashpoint): a node is killed with SIGKILL in the
// middle of an operation, restarted without the crash point, and must have
// lost no acknowledged command, applied none twice, pass `accrual verify`
// and, in a cluster, converge with its peers.

// snapshotFlags make snapshots and log compactions happen within a second,
// and keep few command records resident, so that a restarted node reads
// the records of acknowledged commands back from its ledger's DB.
var snapshotFlags = []string{"--snapshot-threshold", "32", "--trailing-logs", "16", "--snapshot-interval", "100ms",
	"--records-in-memory", "16"}

// lockedBuffer is a process's output, read while the process writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

// crashNode is an `accrual serve` process with fixed addresses, so it can
// be restarted as the same cluster member.
type crashNode struct {
	id, http, raft, data string
	args                 []string // serve arguments after the addresses
	cmd                  *exec.Cmd
	out                  *lockedBuffer
	done                 chan struct{}
	err                  error // Wait's result, once done is closed
}

func newCrashNode(t *testing.T, id string, args ...string) *crashNode {
	return &crashNode{id: id, http: freeAddr(t), raft: freeAddr(t), data: t.TempDir(), args: args}
}

// start runs the node; crashAt, if set, arms ACCRUAL_CRASH_AT.
func (n *crashNode) start(t *testing.T, crashAt string, extra ...string) {
	t.Helper()
	args := append([]string{"serve", "--node-id", n.id, "--http-addr", n.http, "--raft-addr", n.raft, "--data", n.data}, n.args...)
	if !slices.Contains(args, "--join") && !slices.Contains(extra, "--join") {
		args = append(args, "--bootstrap")
	}
	n.cmd = exec.Command(os.Args[0], append(args, extra...)...)
	n.cmd.Env = append(os.Environ(), "ACCRUAL_TEST_MAIN=1", "ACCRUAL_FAULTS=1")
	if crashAt != "" {
		n.cmd.Env = append(n.cmd.Env, "ACCRUAL_CRASH_AT="+crashAt)
	}
	n.out = &lockedBuffer{}
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.out
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd, done := n.cmd, make(chan struct{})
	n.done = done
	go func() { n.err = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
}

func (n *crashNode) dead() bool {
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

// stop ends the node: SIGKILL, or SIGTERM for a clean shutdown.
func (n *crashNode) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	_ = n.cmd.Process.Signal(sig)
	select {
	case <-n.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not exit on %v; output:\n%s", n.id, sig, n.out)
	}
}

// waitCrash waits until the node dies and checks it was the crash point's
// SIGKILL: the test cannot pass without the crash happening.
func (n *crashNode) waitCrash(t *testing.T, point string, timeout time.Duration) {
	t.Helper()
	select {
	case <-n.done:
	case <-time.After(timeout):
		t.Fatalf("%s never reached crash point %s within %v; output:\n%s", n.id, point, timeout, n.out)
	}
	var ee *exec.ExitError
	if !errors.As(n.err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("%s exited without SIGKILL (%v); output:\n%s", n.id, n.err, n.out)
	}
	if !strings.Contains(n.out.String(), "crashpoint: SIGKILL at "+point) {
		t.Fatalf("%s was killed, but not by crash point %s; output:\n%s", n.id, point, n.out)
	}
}

// waitLeader waits until the node is the leader and has applied what its
// earlier terms committed (a linearizable read answers).
func (n *crashNode) waitLeader(t *testing.T, key string) {
	t.Helper()
	for range 600 {
		if st := n.status(t, key); st["State"] == "Leader" {
			if code, _ := call(t, "GET", "http://"+n.http+"/v1/members/nobody?consistency=linearizable", key, ""); code == 404 {
				return
			}
		}
		if n.dead() {
			t.Fatalf("%s exited (%v); output:\n%s", n.id, n.err, n.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never became a ready leader; output:\n%s", n.id, n.out)
}

func (n *crashNode) status(t *testing.T, key string) map[string]any {
	t.Helper()
	_, st := call(t, "GET", "http://"+n.http+"/v1/cluster", key, "")
	return st
}

// unfinishedSnapshot reports whether the snapshot store holds a snapshot
// whose sink was never closed: the kill landed while it was being written.
func (n *crashNode) unfinishedSnapshot(t *testing.T) bool {
	t.Helper()
	tmp, err := filepath.Glob(filepath.Join(n.data, "snapshots", "snapshots", "*.tmp"))
	if err != nil {
		t.Fatal(err)
	}
	// The state a snapshot spools before Persist copies it in (raft/snapshot.go).
	spool, err := filepath.Glob(filepath.Join(n.data, "snapshots", "state-*.tmp"))
	if err != nil {
		t.Fatal(err)
	}
	return len(tmp)+len(spool) > 0
}

// snapshotIndexes lists the indexes of the node's complete snapshots
// (hraft's FileSnapshotStore keeps them in its own snapshots/ directory,
// named term-index-msec; ".tmp" ones are unfinished).
func (n *crashNode) snapshotIndexes(t *testing.T) []uint64 {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(n.data, "snapshots", "snapshots"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var idx []uint64
	for _, e := range ents {
		f := strings.Split(e.Name(), "-")
		if !e.IsDir() || strings.HasSuffix(e.Name(), ".tmp") || len(f) != 3 {
			continue
		}
		if i, err := strconv.ParseUint(f[1], 10, 64); err == nil {
			idx = append(idx, i)
		}
	}
	return idx
}

// traffic is what a test sent: every command id with its body, and the
// canonical result of the acknowledged ones.
type traffic struct {
	mu     sync.Mutex
	route  map[string]string // id → route
	body   map[string]string // id → body
	result map[string]string // id → canonical result, acknowledged ids only
	hot    int               // +1 adjustments to member "hot" sent
	seq    int
}

func newTraffic() *traffic {
	return &traffic{route: map[string]string{}, body: map[string]string{}, result: map[string]string{}}
}

// canonicalResult is a result without its duplicate flag.
func canonicalResult(out map[string]any) string {
	c := make(map[string]any, len(out))
	for k, v := range out {
		if k != "duplicate" {
			c[k] = v
		}
	}
	b, _ := json.Marshal(c)
	return string(b)
}

// next returns a new command: a +1 adjustment to "hot" or a purchase.
func (tr *traffic) next() (id, route, body string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.seq++
	if tr.seq%2 == 0 {
		id, route = fmt.Sprintf("hot-%d", tr.seq), "/v1/adjustments"
		body = fmt.Sprintf(`{"id":%q,"member":"hot","points":1,"reason":"crash"}`, id)
		tr.hot++
	} else {
		id, route = fmt.Sprintf("p-%d", tr.seq), "/v1/purchases"
		body = fmt.Sprintf(`{"id":%q,"member":"m%d","partner":"grocer","amount":%d}`, id, tr.seq/2%20, 1000+tr.seq)
	}
	tr.route[id], tr.body[id] = route, body
	return id, route, body
}

// drive sends commands to target from 4 writers until stop is closed or
// each writer sent limit commands; a command is acknowledged on 200 only.
func (tr *traffic) drive(t *testing.T, target *crashNode, key string, stop <-chan struct{}, limit int) {
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range limit {
				select {
				case <-stop:
					return
				default:
				}
				id, route, body := tr.next()
				if code, out := call(t, "POST", "http://"+target.http+route, key, body); code == 200 && out["status"] == "ok" {
					tr.mu.Lock()
					tr.result[id] = canonicalResult(out)
					tr.mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
}

// checkExactlyOnce resends every command to the leader: an acknowledged one
// must come back as a duplicate with its first result; one whose outcome
// is unknown (in flight at the crash) is applied now or was already. Then
// member "hot" must hold exactly one point per adjustment sent.
func (tr *traffic) checkExactlyOnce(t *testing.T, leader *crashNode, key string) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	acked := 0
	for id, body := range tr.body {
		var code int
		var out map[string]any
		for try := 0; try < 200 && code != 200; try++ {
			if code, out = call(t, "POST", "http://"+leader.http+tr.route[id], key, body); code != 200 {
				time.Sleep(50 * time.Millisecond)
			}
		}
		if code != 200 {
			t.Fatalf("resend of %s never answered 200: %v", id, out)
		}
		first, ok := tr.result[id]
		if !ok {
			continue
		}
		acked++
		if out["duplicate"] != true {
			t.Fatalf("acknowledged %s was lost: its resend was applied anew: %v", id, out)
		}
		if got := canonicalResult(out); got != first {
			t.Fatalf("resend of acknowledged %s answered\n%s\nfirst answer\n%s", id, got, first)
		}
	}
	if acked == 0 {
		t.Fatal("no command was acknowledged before the crash")
	}
	m := waitOK(t, "GET", "http://"+leader.http+"/v1/members/hot?consistency=linearizable", key, "")
	if got := m["available"]; got != float64(tr.hot) {
		t.Fatalf("member hot holds %v points, want one per adjustment sent: %d", got, tr.hot)
	}
	t.Logf("%d commands sent, %d acknowledged (all resent), %d adjustments of hot", len(tr.body), acked, tr.hot)
}

// checkStatements: no command has two ledger entries on any node, and
// every adjustment of hot has its entry on every node, including one that
// caught up by snapshot install (the entries travel with the snapshot).
func (tr *traffic) checkStatements(t *testing.T, key string, nodes []*crashNode) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, n := range nodes {
		count := map[string]int{}
		cursor := ""
		for page := 0; page < 100; page++ {
			u := "http://" + n.http + "/v1/members/hot/statement?limit=1000"
			if cursor != "" {
				u += "&cursor=" + url.QueryEscape(cursor)
			}
			code, out := call(t, "GET", u, key, "")
			if code != 200 {
				t.Fatalf("%s: statement of hot: %d %v", n.id, code, out)
			}
			ents, _ := out["entries"].([]any)
			for _, e := range ents {
				id, _ := e.(map[string]any)["command_id"].(string)
				count[id]++
			}
			next, _ := out["next"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		for id, c := range count {
			if c > 1 {
				t.Fatalf("%s: command %s has %d ledger entries", n.id, id, c)
			}
		}
		for id, route := range tr.route {
			if route == "/v1/adjustments" && count[id] != 1 {
				t.Fatalf("%s: adjustment %s has %d ledger entries, want 1", n.id, id, count[id])
			}
		}
	}
}

// checkConverged waits until every node reports the same applied index
// with its ledger written up to it, then compares the views of the members
// written to, taken at one applied index (each view carries it).
func checkConverged(t *testing.T, key string, nodes []*crashNode) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var idx []float64
		same := true
		for _, n := range nodes {
			st := n.status(t, key)
			i, _ := st["AppliedIndex"].(float64)
			pos, _ := st["LedgerPosition"].(float64)
			idx = append(idx, i)
			same = same && i > 0 && i == idx[0] && pos >= i // the ledger writer trails the apply
		}
		if same {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nodes did not converge: applied indexes %v", idx)
		}
		time.Sleep(20 * time.Millisecond)
	}
	members := []string{"hot"}
	for i := range 20 {
		members = append(members, fmt.Sprintf("m%d", i))
	}
	for _, m := range members {
		var views []string
		for try := 0; try < 50; try++ {
			views = views[:0]
			same := true
			for _, n := range nodes {
				out := waitOK(t, "GET", "http://"+n.http+"/v1/members/"+m+"?consistency=stale", key, "")
				delete(out, "consistency")
				b, _ := json.Marshal(out)
				views = append(views, string(b))
				same = same && views[len(views)-1] == views[0]
			}
			if same {
				break
			}
			views = nil
			time.Sleep(50 * time.Millisecond)
		}
		if views == nil {
			t.Fatalf("member %s: views differ between nodes at the same applied index", m)
		}
	}
}

// checkVerify stops every node cleanly and runs `accrual verify` on its data.
func checkVerify(t *testing.T, nodes []*crashNode) {
	t.Helper()
	for _, n := range nodes {
		n.stop(t, syscall.SIGTERM)
	}
	for _, n := range nodes {
		cmd := exec.Command(os.Args[0], "verify", "--data", n.data)
		cmd.Env = append(os.Environ(), "ACCRUAL_TEST_MAIN=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("accrual verify --data of %s: %v\n%s", n.id, err, out)
		}
	}
}

// TestCrashMidOperationLosesNoAcknowledgedCommand: a kill -9 in the middle
// of a batch's apply, its ledger and command-record write, a snapshot's
// write of the state to its spool file and its persist, a log compaction, a follower's
// snapshot install and its receipt of the snapshot loses no acknowledged
// command, applies none twice, leaves ledgers that verify, and the
// restarted follower converges with the cluster.
func TestCrashMidOperationLosesNoAcknowledgedCommand(t *testing.T) {
	cases := []struct {
		point       string // ACCRUAL_CRASH_AT
		cluster     bool   // a follower dies installing a snapshot from the leader
		halfWritten bool   // the kill must leave a snapshot half-written (.tmp)
	}{
		{point: "apply-batch:40"},
		{point: "ledger-append:30"},
		{point: "snapshot-write:2", halfWritten: true},
		{point: "snapshot-persist:2", halfWritten: true},
		{point: "log-compaction:1"},
		{point: "snapshot-install", cluster: true},
		{point: "snapshot-receive", cluster: true, halfWritten: true},
	}
	for _, tc := range cases {
		name, _, _ := strings.Cut(tc.point, ":")
		t.Run(name, func(t *testing.T) {
			if tc.cluster {
				crashFollowerInstall(t, tc.point, name, tc.halfWritten)
			} else {
				crashSingleNode(t, tc.point, name, tc.halfWritten)
			}
		})
	}
}

// crashSingleNode: one node with the point armed under write traffic dies,
// restarts from its data directory and is checked.
func crashSingleNode(t *testing.T, crashAt, point string, halfWritten bool) {
	n := newCrashNode(t, "n1", snapshotFlags...)
	n.start(t, crashAt)
	key := n.key(t)
	n.waitLeader(t, key)
	tr := newTraffic()
	tr.drive(t, n, key, n.done, 2000)
	n.waitCrash(t, point, 30*time.Second)
	if halfWritten && !n.unfinishedSnapshot(t) {
		t.Fatalf("after the kill at %s: no half-written snapshot", point)
	}

	n.start(t, "")
	n.waitLeader(t, key)
	tr.checkExactlyOnce(t, n, key)
	tr.checkStatements(t, key, []*crashNode{n})
	checkVerify(t, []*crashNode{n})
}

// crashFollowerInstall: three nodes; a follower is killed, the leader
// snapshots and compacts its log past the follower's last entry, the
// follower returns with the point armed and dies installing the leader's
// snapshot, then restarts clean and must converge.
func crashFollowerInstall(t *testing.T, crashAt, point string, halfWritten bool) {
	n1 := newCrashNode(t, "n1", snapshotFlags...)
	n1.start(t, "")
	key := n1.key(t)
	n1.waitLeader(t, key)
	keysFile := filepath.Join(n1.data, "keys.yaml")
	nodes := []*crashNode{n1}
	for _, id := range []string{"n2", "n3"} {
		n := newCrashNode(t, id, append([]string{"--keys", keysFile}, snapshotFlags...)...)
		n.start(t, "", "--join", n1.http, "--join-key", key)
		nodes = append(nodes, n)
	}
	var leader, victim *crashNode
	for i := 0; leader == nil || victim == nil; i++ {
		if i > 400 {
			t.Fatal("the cluster never had 3 servers and a leader")
		}
		time.Sleep(25 * time.Millisecond)
		st := n1.status(t, key)
		if servers, _ := st["Servers"].([]any); len(servers) != 3 {
			continue
		}
		for _, n := range nodes {
			if n.id == st["LeaderID"] {
				leader = n
			} else {
				victim = n
			}
		}
	}
	tr := newTraffic()
	tr.drive(t, leader, key, nil, 5)
	victimLast, _ := victim.status(t, key)["LastIndex"].(float64)
	victim.stop(t, syscall.SIGKILL)
	if idx := victim.snapshotIndexes(t); len(idx) > 0 {
		t.Fatalf("precondition: %s took a snapshot before it was stopped (%v): a restart would restore it first", victim.id, idx)
	}

	// Write until the leader's latest snapshot leaves the victim's last
	// entry out of the log it keeps (TrailingLogs 16).
	for round := 0; ; round++ {
		latest := uint64(0)
		for _, i := range leader.snapshotIndexes(t) {
			latest = max(latest, i)
		}
		if float64(latest) > victimLast+64 {
			break
		}
		if round > 100 {
			t.Fatalf("the leader never snapshotted past index %v+64 (latest %d)", victimLast, latest)
		}
		tr.drive(t, leader, key, nil, 10)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); tr.drive(t, leader, key, stop, 10000) }()
	victim.start(t, crashAt)
	victim.waitCrash(t, point, 30*time.Second)
	close(stop)
	wg.Wait()
	if halfWritten && !victim.unfinishedSnapshot(t) {
		t.Fatalf("after the kill at %s: no half-written snapshot", point)
	}
	if !halfWritten && len(victim.snapshotIndexes(t)) == 0 {
		t.Fatalf("after the kill at %s: the received snapshot is not stored", point)
	}

	victim.start(t, "")
	checkConverged(t, key, nodes)
	// The installed snapshot carries the leader's ledger section: the
	// restart finishes its import (installMark), it does not fall back.
	if aside, _ := filepath.Glob(filepath.Join(victim.data, "snapshots-ahead-of-ledger", "*")); len(aside) > 0 {
		t.Fatalf("after the kill at %s: the installed snapshot was set aside as ahead of the ledger: %v", point, aside)
	}
	// Commands after the recovery reach the victim's ledger too, once.
	tr.drive(t, leader, key, nil, 5)
	tr.checkExactlyOnce(t, leader, key)
	checkConverged(t, key, nodes)
	tr.checkStatements(t, key, nodes)
	checkVerify(t, nodes)
}

// key reads the operator key the node generated on first start.
func (n *crashNode) key(t *testing.T) string {
	t.Helper()
	for range 200 {
		if k, err := os.ReadFile(filepath.Join(n.data, "operator.key")); err == nil && len(k) > 0 {
			return string(k)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: no operator key; output:\n%s", n.id, n.out)
	return ""
}
