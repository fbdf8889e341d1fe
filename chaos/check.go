package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/accrual/accrual/bench/workload"
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/raft/faultinject"
	"github.com/anishathalye/porcupine"
)

// check runs every check on the healed, quiet cluster and fills the report.
func (r *runner) check(ctx context.Context) {
	rep := r.rep
	rep.Sent = r.sent.Load()
	rep.Unfinished = r.unfin.Load()
	rep.Acked = int64(len(r.acks))
	rep.AckedOK = r.ackedOK.Load()
	rep.HotWrites, rep.HotReads = r.hotWrites.Load(), r.hotReads.Load()
	if rep.Acked == 0 {
		rep.fail("no command was acknowledged")
	}
	if rep.Unfinished > 0 {
		rep.fail("%d commands never acknowledged after the cluster healed", rep.Unfinished)
	}

	r.checkRetries(ctx)
	r.checkHot(ctx)
	r.checkReplicas(ctx)
	r.checkClock(ctx)
	rep.Retries = r.retry.Load()
	r.checkVerify() // stops the nodes
	r.checkLinearizable()
	r.checkReplay()
}

// engineAheadLimit is how far a node's engine clock may be ahead of the
// harness's wall clock: commands may carry an `at` up to at_in_future's
// 5 minutes ahead, plus the cluster clock's default tolerance. A leader
// that stamped its own skewed clock (days, a year) is far beyond.
const engineAheadLimit = 5*time.Minute + time.Second

// checkClock: no node's engine clock, which never goes back, is ahead of
// the harness's (the majority's) clock: no tick or `at` from a skewed
// clock was stamped, so no lot matured or expired before its time.
func (r *runner) checkClock(ctx context.Context) {
	for _, p := range r.c.procs {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s, ok := r.c.status(cctx, p)
		cancel()
		if !ok {
			r.rep.fail("clock check: %s did not answer /v1/cluster", p.id)
			continue
		}
		ahead := time.Duration(s.Clock.EngineMS-time.Now().UnixMilli()) * time.Millisecond
		r.rep.EngineAhead = max(r.rep.EngineAhead, ahead)
		if ahead > engineAheadLimit {
			r.rep.fail("%s's engine clock is %s ahead of the wall clock: a skewed clock was stamped (lots matured or expired early)", p.id, ahead)
		}
	}
}

// checkReplay merges the nodes' journals of applied logs (raft/faultinject)
// into the committed log, replays it offline in log order to the index the
// replicas were compared at, and compares the state hashes. Run once the
// nodes are stopped.
func (r *runner) checkReplay() {
	rep := r.rep
	if !rep.Converged {
		return
	}
	prog, err := engine.ParseProgram(r.gen.Program())
	if err != nil {
		rep.fail("offline replay: program: %v", err)
		return
	}
	paths := make([]string, len(r.c.procs))
	for i, p := range r.c.procs {
		paths[i] = filepath.Join(p.data, faultinject.JournalName)
	}
	dir, err := os.MkdirTemp(r.cfg.Dir, "replay-")
	if err != nil {
		rep.fail("offline replay: %v", err)
		return
	}
	defer os.RemoveAll(dir)
	res, err := faultinject.ReplayJournals(paths, prog, rep.AppliedIndex, dir)
	if err != nil {
		rep.fail("offline replay: %v", err)
		return
	}
	rep.ReplayLogs, rep.ReplayHash = res.Logs, res.StateHash
	if res.StateHash != rep.StateHash {
		rep.fail("offline replay of the committed log to index %d: state hash %016x, replicas %016x", rep.AppliedIndex, res.StateHash, rep.StateHash)
	}
	r.logf("offline replay: %d logs (%d compared between journals), hash %016x", res.Logs, res.Compared, res.StateHash)
}

// checkRetries resends every acknowledged command: each must come back as
// a duplicate with its first result.
func (r *runner) checkRetries(ctx context.Context) {
	rep := r.rep
	cctx, cancel := context.WithTimeout(ctx, 120*time.Second+r.cfg.Duration/2)
	defer cancel()
	s := &sender{c: r.c, rng: rand.New(rand.NewPCG(r.cfg.Seed, 0x7e7)), retries: &r.retry}
	// The generator is deterministic and was drawn from under a lock, so a
	// new one with the seed yields the sent lines again, in order.
	gen, err := workload.New(workload.Config{Profile: workload.Payback, Seed: r.cfg.Seed, Members: r.cfg.Members})
	if err != nil {
		rep.fail("final retry: %v", err)
		return
	}
	const batch = 500
	shown, retried := 0, 0
	var lines [][]byte
	var ids []string
	flush := func() bool {
		if len(lines) == 0 {
			return true
		}
		defer func() { lines, ids = lines[:0], ids[:0] }()
		out, err := s.post(cctx, "/v1/commands", joinArray(lines), false)
		var results []json.RawMessage
		if err == nil {
			err = json.Unmarshal(out, &results)
		}
		if err == nil && len(results) != len(ids) {
			err = fmt.Errorf("%d results for %d commands", len(results), len(ids))
		}
		if err != nil {
			rep.fail("final retry of acknowledged commands: %v", err)
			return false
		}
		retried += len(ids)
		for j, raw := range results {
			id, dup, canon, err := canonical(raw)
			switch {
			case err != nil || id != ids[j]:
				rep.Mismatched++
			case !dup:
				rep.Lost++
			case resultHash(canon) != r.acks[id]:
				rep.Mismatched++
			default:
				continue
			}
			if shown < 5 {
				shown++
				r.logf("retry of %s answered %s", ids[j], truncate(raw))
			}
		}
		return true
	}
	for range r.sent.Load() {
		line := gen.Next(nil)
		id := lineID(line)
		if _, ok := r.acks[id]; !ok || bytes.Contains(line, []byte(`"type":"tick"`)) {
			continue // unacknowledged, or a tick (SPEC §6: never deduplicated)
		}
		lines, ids = append(lines, line), append(ids, id)
		if len(lines) == batch && !flush() {
			return
		}
	}
	if !flush() {
		return
	}
	if want := len(r.acks) - r.ticks; retried != want {
		rep.fail("final retry covered %d of %d acknowledged commands", retried, want)
	}
	if rep.Lost > 0 {
		rep.fail("%d acknowledged commands lost (their retry was applied anew)", rep.Lost)
	}
	if rep.Mismatched > 0 {
		rep.fail("%d retries answered another result than the first", rep.Mismatched)
	}
	r.logf("retried %d acknowledged commands (not the %d ticks, never deduplicated): %d lost, %d mismatched", retried, r.ticks, rep.Lost, rep.Mismatched)
}

// checkHot: linearizability of the hot member's history, its final balance
// equals the acknowledged writes, and no write has two ledger entries.
func (r *runner) checkHot(ctx context.Context) {
	rep := r.rep
	acked := int64(0)
	r.hotIDs.Range(func(any, any) bool { acked++; return true })
	// Final balance, linearizable, through the leader.
	var final int64 = -1
	for try := 0; try < 50 && final < 0; try++ {
		for _, p := range r.c.procs {
			code, _, b := r.c.do(ctx, "GET", r.c.url(p)+"/v1/members/hot?consistency=linearizable", nil)
			var v struct{ Available int64 }
			if code == 200 && json.Unmarshal(b, &v) == nil {
				final = v.Available
				break
			}
		}
		if final < 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	switch {
	case final < 0:
		rep.fail("hot member: no linearizable read after the run")
	case final > acked:
		rep.Duplicated += final - acked
		rep.fail("hot member: balance %d > %d acknowledged +1 writes", final, acked)
	case final < acked:
		rep.Lost += acked - final
		rep.fail("hot member: balance %d < %d acknowledged +1 writes", final, acked)
	}
	// Ledger: one entry per write on every node.
	for _, p := range r.c.procs {
		count := map[string]int{}
		cursor := ""
		for page := 0; page < 10000; page++ {
			u := r.c.url(p) + "/v1/members/hot/statement?limit=1000"
			if cursor != "" {
				u += "&cursor=" + url.QueryEscape(cursor)
			}
			code, _, b := r.c.do(ctx, "GET", u, nil)
			var st struct {
				Entries []struct {
					CommandID string `json:"command_id"`
				}
				Next string
			}
			if code != 200 || json.Unmarshal(b, &st) != nil {
				rep.fail("hot statement on %s: %d %s", p.id, code, truncate(b))
				break
			}
			for _, e := range st.Entries {
				count[e.CommandID]++
			}
			if st.Next == "" {
				break
			}
			cursor = st.Next
		}
		dups, missing := 0, 0
		r.hotIDs.Range(func(id, _ any) bool {
			if count[id.(string)] == 0 {
				missing++
			}
			return true
		})
		if missing > 0 {
			rep.fail("hot ledger on %s: %d acknowledged writes have no entry", p.id, missing)
		}
		for id, n := range count {
			if n > 1 {
				dups++
				if dups <= 3 {
					r.logf("hot ledger on %s: %s has %d entries", p.id, id, n)
				}
			}
		}
		if dups > 0 {
			rep.Duplicated += int64(dups)
			rep.fail("hot ledger on %s: %d commands with more than one entry", p.id, dups)
		}
	}
	r.logf("hot member: balance %d, %d writes acknowledged", final, acked)
}

// porcupineMaxOps bounds the history given to porcupine: its search holds
// the whole history's state graph in memory, gigabytes at a few hundred
// thousand operations, next to three nodes holding a long run's state.
const porcupineMaxOps = 200_000

// checkLinearizable decides the hot member's history. The exact counter
// check (counter.go) decides every history; porcupine's general search
// confirms it when the history is small enough and it finishes within its
// minute. Run after the nodes are stopped, when their memory is free.
func (r *runner) checkLinearizable() {
	rep := r.rep
	exactErr := checkCounter(r.hist.ops)
	res, porc := porcupine.Unknown, fmt.Sprintf("porcupine skipped: more than %d operations", porcupineMaxOps)
	if len(r.hist.ops) <= porcupineMaxOps {
		res, _ = porcupine.CheckOperationsVerbose(counterModel, r.hist.ops, 60*time.Second)
		porc = "porcupine timed out after 60 s"
	}
	switch {
	case exactErr != nil || res == porcupine.Illegal:
		rep.Linearizable = "VIOLATION"
		rep.Violations = 1
		rep.fail("hot member history (%d operations) is not linearizable: exact check: %v; porcupine: %v", len(r.hist.ops), exactErr, res)
	case res == porcupine.Ok:
		rep.Linearizable = "ok (exact check and porcupine)"
	default:
		rep.Linearizable = "ok (exact check; " + porc + ")"
	}
	r.logf("hot member: %d operations, %s", len(r.hist.ops), rep.Linearizable)
}

// checkReplicas asks every node for its state hash at one log index none
// of them has applied yet (GET /v1/cluster/state-hash?at=N: each hashes
// right after applying that index, so the answers are comparable while the
// leader's ticks go on), then compares every member's view across nodes
// and checks the balance invariant.
func (r *runner) checkReplicas(ctx context.Context) {
	r.checkStateHashes(ctx)
	names := r.compareMemberViews(ctx)
	rep := r.rep
	r.logf("replicas: converged %v at %d (hash %016x); %d members compared", rep.Converged, rep.AppliedIndex, rep.StateHash, len(names))
}

// stateHashAnswer is a node's answer to GET /v1/cluster/state-hash.
type stateHashAnswer struct {
	Index     uint64 `json:"index"`
	StateHash string `json:"state_hash"`
}

// checkStateHashes asks every node for its state hash at an index just
// ahead of all of them, up to three times, until they all agree.
func (r *runner) checkStateHashes(ctx context.Context) {
	rep := r.rep
	hc := r.c.newHTTPClient(3 * time.Minute) // hashing a large engine takes a while
	for try := 0; try < 3 && !rep.Converged; try++ {
		at := uint64(0)
		for _, p := range r.c.procs {
			if s, ok := r.c.status(ctx, p); ok {
				at = max(at, s.AppliedIndex+3)
			}
		}
		answers := make([]stateHashAnswer, len(r.c.procs))
		codes := make([]int, len(r.c.procs))
		var wg sync.WaitGroup
		for i, p := range r.c.procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = r.askStateHash(ctx, hc, p, at, &answers[i])
			}()
		}
		wg.Wait()
		same := codes[0] == 200
		for i := range answers[1:] {
			same = same && codes[i+1] == 200 && answers[i+1] == answers[0]
		}
		if same {
			h, _ := strconv.ParseUint(answers[0].StateHash, 16, 64)
			rep.Converged, rep.AppliedIndex, rep.StateHash = true, answers[0].Index, h
			break
		}
		r.logf("state hashes asked at %d: %+v (statuses %v)", at, answers, codes)
	}
	if !rep.Converged {
		rep.fail("replicas did not report the same state hash at the same log index (3 tries)")
	}
}

// askStateHash asks one node for its state hash at index at, into ans; it
// returns the HTTP status, 0 when there was no answer.
func (r *runner) askStateHash(ctx context.Context, hc *http.Client, p *proc, at uint64, ans *stateHashAnswer) int {
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/v1/cluster/state-hash?at=%d", r.c.url(p), at), nil)
	if err != nil {
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+r.c.key)
	resp, err := hc.Do(req)
	if err != nil {
		r.logf("state hash on %s: %v", p.id, err)
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, ans) != nil {
		r.logf("state hash on %s: %d %s", p.id, resp.StatusCode, truncate(b))
	}
	return resp.StatusCode
}

// compareMemberViews compares every member's view (and the hot member's)
// across nodes and checks the balance invariant on each; it returns the
// members compared. The whole comparison is bounded by viewCompareBudget:
// a node that never converges fails the run with what it answered instead
// of holding the run for members × tries × timeouts.
func (r *runner) compareMemberViews(ctx context.Context) []string {
	rep := r.rep
	names := make([]string, 0, len(r.members)+1)
	for m := range r.members {
		names = append(names, m)
	}
	names = append(names, "hot")
	sort.Strings(names)
	rep.MembersCheck = len(names)
	deadline := time.Now().Add(viewCompareBudget)
	for i, m := range names {
		if time.Now().After(deadline) {
			rep.fail("member views: %d of %d members not compared within %s", len(names)-i, len(names), viewCompareBudget)
			break
		}
		diff, bad, answers := r.compareMember(ctx, m)
		if diff {
			rep.ViewDiffs++
			if rep.ViewDiffs <= 3 {
				r.logf("member %s: views differ between nodes: %s", m, answers)
			}
		}
		if bad != nil {
			rep.InvariantBad++
			if rep.InvariantBad <= 3 {
				r.logf("invariant: %v", bad)
			}
		}
	}
	if rep.ViewDiffs > 0 {
		rep.fail("%d members have different views on different nodes", rep.ViewDiffs)
	}
	if rep.InvariantBad > 0 {
		rep.fail("%d members break available+pending+held = earned−redeemed−expired", rep.InvariantBad)
	}
	return names
}

// viewCompareBudget bounds compareMemberViews: reading a few thousand
// members on three quiet nodes takes seconds.
const viewCompareBudget = 2 * time.Minute

// compareMember reads a member's view on every node: diff when they differ
// (or a node does not answer), bad when one breaks the invariant, answers
// what each node said when they differ. A tick (maturation, expiry) may
// land on one node between two reads: a difference is retried a few times.
func (r *runner) compareMember(ctx context.Context, m string) (diff bool, bad error, answers string) {
	for try := 0; try < 20; try++ {
		if diff, bad, answers = r.readMemberViews(ctx, m); !diff {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return diff, bad, answers
}

// readMemberViews is one try of compareMember. It compares the views
// without their applied index: in a quiet cluster ticks go on, and nodes
// read one after another rarely sit at the same index; equal views at
// different indexes agree (the state hashes compare whole states at one
// index).
func (r *runner) readMemberViews(ctx context.Context, m string) (diff bool, bad error, answers string) {
	var first string
	said := make([]string, 0, len(r.c.procs))
	for i, p := range r.c.procs {
		code, _, b := r.c.do(ctx, "GET", r.c.url(p)+"/v1/members/"+url.PathEscape(m)+"?consistency=stale", nil)
		said = append(said, fmt.Sprintf("%s: %d %s", p.id, code, truncate(b)))
		if code != 200 {
			diff = true
			continue
		}
		var v map[string]any
		var mv struct{ Available, Pending, Held, Earned, Redeemed, Expired int64 }
		_ = json.Unmarshal(b, &v)
		_ = json.Unmarshal(b, &mv)
		view := engine.MemberView{Member: m, Available: mv.Available, Pending: mv.Pending, Held: mv.Held,
			Earned: mv.Earned, Redeemed: mv.Redeemed, Expired: mv.Expired}
		if err := CheckInvariant(view); err != nil && bad == nil {
			bad = fmt.Errorf("%s: %w", p.id, err)
		}
		delete(v, "applied_index")
		delete(v, "consistency")
		c, _ := json.Marshal(v)
		if i == 0 || first == "" {
			first = string(c)
		} else if string(c) != first {
			diff = true
		}
	}
	return diff, bad, strings.Join(said, "; ")
}

// checkVerify stops every node (SIGTERM) and runs `accrual verify` on its
// data directory.
func (r *runner) checkVerify() {
	for _, p := range r.c.procs {
		p.signal(syscall.SIGTERM, 15*time.Second)
	}
	for _, p := range r.c.procs {
		cmd := exec.Command(r.cfg.Binary, "verify", "--data", p.data)
		cmd.Env = append(cmd.Environ(), r.cfg.Env...)
		out, err := cmd.CombinedOutput()
		line := strings.TrimSpace(string(out))
		if err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				line = err.Error()
			}
			r.rep.Verify[p.id] = "FAILED: " + line
			r.rep.fail("verify %s: %s", p.id, line)
			continue
		}
		r.rep.Verify[p.id] = line
	}
	// Every node's ledger must hold the same entries: the same last seq and
	// content digest (batch positions and hash chains are each node's own).
	var first, firstID string
	for _, p := range r.c.procs {
		line, ok := r.rep.Verify[p.id]
		if !ok || strings.HasPrefix(line, "FAILED") {
			continue
		}
		m := ledgerID.FindString(line)
		switch {
		case m == "":
			r.rep.fail("verify %s: no last seq and digest in %q", p.id, line)
		case first == "":
			first, firstID = m, p.id
		case m != first:
			r.rep.fail("ledgers differ: %s has %s, %s has %s", firstID, first, p.id, m)
		}
	}
}

// ledgerID picks the entries' identity out of a verify line.
var ledgerID = regexp.MustCompile(`last seq \d+, digest [0-9a-f]+`)
