package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accrual/accrual/api"
	"github.com/accrual/accrual/api/apitest"
	"github.com/accrual/accrual/api/wire"
	"github.com/accrual/accrual/bench/workload"
	"github.com/accrual/accrual/engine"
)

func genStream(t testing.TB, profile workload.Profile, n int) (*engine.Program, []byte, [][]byte) {
	t.Helper()
	cfg := workload.DefaultConfig(profile)
	cfg.Seed = 7
	if profile == workload.Club {
		cfg.Members = 20_000
	}
	g, err := workload.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.ParseProgram(g.Program())
	if err != nil {
		t.Fatal(err)
	}
	var buf []byte
	for i := 0; i < n; i++ {
		buf = g.Next(buf)
	}
	lines := bytes.Split(bytes.TrimSuffix(buf, []byte("\n")), []byte("\n"))
	if len(lines) != n {
		t.Fatalf("%d lines", len(lines))
	}
	return p, buf, lines
}

// TestStream100k: 100k commands of the club profile (every command type,
// 1% quotes) through POST /v1/stream give byte for byte the results of an
// offline replay of the same stream.
func TestStream100k(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 20_000
	}
	p, body, lines := genStream(t, workload.Club, n)
	want := replayLines(t, p, lines, 4096)
	mem := apitest.New(p, false)
	_, base := start(t, mem, func(c *api.Config) { c.Now = func() time.Time { return time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) } })

	// through a pipe, so the body is chunked and arrives while results flow
	pr, pw := io.Pipe()
	go func() {
		for len(body) > 0 {
			k := min(len(body), 64<<10)
			if _, err := pw.Write(body[:k]); err != nil {
				return
			}
			body = body[k:]
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", base+"/v1/stream", pr)
	req.Header.Set("Authorization", "Bearer "+opKey)
	startT := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	i := 0
	for sc.Scan() {
		if i >= len(want) {
			t.Fatalf("extra line %s", sc.Text())
		}
		if sc.Text() != want[i] {
			t.Fatalf("line %d: %s, want %s (command %s)", i, sc.Text(), want[i], lines[i])
		}
		i++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if i != len(want) {
		t.Fatalf("%d results, want %d", i, len(want))
	}
	el := time.Since(startT)
	subs, cmds := mem.Counts()
	t.Logf("%d commands in %v (%.0f/s); %d submits of %d commands (avg %.0f)", n, el, float64(n)/el.Seconds(), subs, cmds, float64(cmds)/float64(subs))
}

// TestBatchesEqualReplay: the same stream through /v1/commands in batches
// of 1000 (array framing) also equals replay.
func TestBatchesEqualReplay(t *testing.T) {
	p, _, lines := genStream(t, workload.Payback, 20_000)
	want := replayLines(t, p, lines, 4096)
	mem := apitest.New(p, false)
	_, base := start(t, mem, func(c *api.Config) { c.Now = func() time.Time { return time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) } })
	k := 0
	for off := 0; off < len(lines); off += 1000 {
		body := append([]byte{'['}, bytes.Join(lines[off:min(off+1000, len(lines))], []byte{','})...)
		body = append(body, ']')
		req, _ := http.NewRequestWithContext(context.Background(), "POST", base+"/v1/commands", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+opKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var res []json.RawMessage
		err = json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("status %d: %v", resp.StatusCode, err)
		}
		for _, r := range res {
			if string(r) != want[k] {
				t.Fatalf("result %d: %s, want %s", k, r, want[k])
			}
			k++
		}
	}
	if k != len(want) {
		t.Fatalf("%d results", k)
	}
}

// BenchmarkCommands1000 posts batches of 1000 commands (payback profile)
// to /v1/commands over loopback against the in-memory backend.
func BenchmarkCommands1000(b *testing.B) {
	p, _, lines := genStream(b, workload.Payback, 200_000)
	sw := &swapBackend{}
	sw.Store(apitest.New(p, false))
	_, base := start(b, sw, func(c *api.Config) { c.Now = func() time.Time { return time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) } })
	var bodies [][]byte
	for off := 0; off < len(lines); off += 1000 {
		body := append([]byte{'['}, bytes.Join(lines[off:off+1000], []byte{','})...)
		bodies = append(bodies, append(body, ']'))
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ResetTimer()
	startT := time.Now()
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1) - 1)
			if i > 0 && i%len(bodies) == 0 {
				sw.Store(apitest.New(p, false)) // fresh state: no duplicates
			}
			req, _ := http.NewRequest("POST", base+"/v1/commands", bytes.NewReader(bodies[i%len(bodies)]))
			req.Header.Set("Authorization", "Bearer "+opKey)
			resp, err := hc.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)*1000/time.Since(startT).Seconds(), "commands/s")
}

// swapBackend delegates to a Mem that the benchmark replaces when its
// stream wraps around, so every batch is fresh work (no duplicates).
type swapBackend struct{ atomic.Pointer[apitest.Mem] }

func (s *swapBackend) Submit(ctx context.Context, c []engine.Command) ([]byte, error) {
	return s.Load().Submit(ctx, c)
}
func (s *swapBackend) Member(n, c string) (engine.MemberView, uint64, bool, error) {
	return s.Load().Member(n, c)
}
func (s *swapBackend) Quote(c *engine.Command) ([]byte, error) { return s.Load().Quote(c) }
func (s *swapBackend) Program() *engine.Program                { return s.Load().Program() }
func (s *swapBackend) Status() wire.Status                     { return s.Load().Status() }
func (s *swapBackend) Stats() wire.Stats                       { return s.Load().Stats() }
func (s *swapBackend) Statement(m, c string, l int) (wire.Statement, error) {
	return s.Load().Statement(m, c, l)
}
func (s *swapBackend) BalanceAt(m string, at int64) (wire.Balance, error) {
	return s.Load().BalanceAt(m, at)
}
func (s *swapBackend) CommandEntries(id string) (wire.CommandEntries, error) {
	return s.Load().CommandEntries(id)
}
func (s *swapBackend) Settlement(p string, f, t int64) (wire.Settlement, error) {
	return s.Load().Settlement(p, f, t)
}
func (s *swapBackend) Members(a string, l int, c string) (wire.Members, error) {
	return s.Load().Members(a, l, c)
}
