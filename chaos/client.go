package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
)

// errFatal marks answers that retrying cannot fix (400, 401, 403, …): a bug.
var errFatal = errors.New("chaos: unexpected answer")

// sender posts to the cluster with retries under the same ids: on 421 it
// follows the leader named in the error, on 503/5xx, timeouts and
// connection errors it tries another node. It gives up only when ctx ends.
type sender struct {
	c       *cluster
	rng     *rand.Rand
	target  string // base URL
	retries *atomic.Int64
}

func (s *sender) other() string {
	p := s.c.procs[s.rng.IntN(len(s.c.procs))]
	return s.c.url(p)
}

// post sends body to path until a 200 (or 422 when ok422) and returns it.
func (s *sender) post(ctx context.Context, path string, body []byte, ok422 bool) ([]byte, error) {
	if s.target == "" {
		s.target = s.other()
	}
	for attempt := 0; ; attempt++ {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if attempt > 0 {
			s.retries.Add(1)
		}
		code, _, b := s.c.do(ctx, "POST", s.target+path, body)
		switch {
		case code == 200 || (ok422 && code == 422):
			return b, nil
		case code == 421:
			var e errorBody
			_ = json.Unmarshal(b, &e)
			if e.Error.Leader != "" && s.c.baseURL(e.Error.Leader) != s.target {
				s.target = s.c.baseURL(e.Error.Leader)
				continue
			}
			s.target = s.other()
		case code == 0 || code == 408 || code == 429 || code >= 500:
			s.target = s.other()
		default:
			return nil, fmt.Errorf("%w: POST %s%s: %d %s", errFatal, s.target, path, code, truncate(b))
		}
		sleep(ctx, time.Duration(20+s.rng.IntN(80))*time.Millisecond)
	}
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// resultHash is the digest of a canonical result (see canonical); the
// harness keeps digests, not results, so long runs fit in memory.
func resultHash(canon string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(canon))
	return h.Sum64()
}

// lineID extracts the "id" of a workload line (the generator writes it
// right after the type).
func lineID(line []byte) string {
	i := bytes.Index(line, []byte(`"id":"`))
	if i < 0 {
		return ""
	}
	rest := line[i+6:]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// canonical decodes a result object and re-encodes it without "duplicate"
// (map keys sorted), so results can be compared field by field.
func canonical(raw json.RawMessage) (id string, dup bool, canon string, err error) {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return "", false, "", err
	}
	id, _ = m["id"].(string)
	dup, _ = m["duplicate"].(bool)
	delete(m, "duplicate")
	b, err := json.Marshal(m)
	return id, dup, string(b), err
}

// history is the recorded operations on the hot member.
type history struct {
	mu    sync.Mutex
	start time.Time
	ops   []porcupine.Operation
}

// hotInput is a porcupine input: a write (adjust +1) or a read.
type hotInput struct{ Write bool }

func (h *history) add(client int, write bool, call, ret time.Time, out int64) {
	h.mu.Lock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: hotInput{write},
		Call: call.Sub(h.start).Nanoseconds(), Output: out, Return: ret.Sub(h.start).Nanoseconds()})
	h.mu.Unlock()
}

// counterModel: writes add 1 and return the new value; reads return it.
var counterModel = porcupine.Model{
	Init: func() any { return int64(0) },
	Step: func(state, input, output any) (bool, any) {
		s, o := state.(int64), output.(int64)
		if input.(hotInput).Write {
			return o == s+1, s + 1
		}
		return o == s, s
	},
	DescribeOperation: func(input, output any) string {
		if input.(hotInput).Write {
			return fmt.Sprintf("adjust +1 → %d", output)
		}
		return fmt.Sprintf("read → %d", output)
	},
}
