package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accrual/accrual/api"
	"github.com/accrual/accrual/api/apitest"
	"github.com/accrual/accrual/engine"
)

const testProgram = `
program: test
unit: points
currency: EUR
earn:
  rate: {points: 1, per: 100}
pending_days: 0
expiry: {mode: lot, days: 365}
tiers:
  metric: spend
  levels:
    - {name: card, threshold: 0, multiplier_bp: 10000, discount_bp: 300}
    - {name: gold, threshold: 100000, multiplier_bp: 12000, discount_bp: 700, perks: [lounge, free delivery]}
welcome_bonus: 100
redemption: {min_points: 10, hold_timeout_s: 900}
partners:
  - {id: shop}
  - {id: cafe}
plans:
  - {id: plus, days: 30, multiplier_bp: 13000}
referral: {referrer_points: 300, referred_points: 150}
actions:
  - {id: recycling, points: 40, per_member_month: 2}
transfers: {min_points: 20}
`

const (
	opKey   = "op-key-0123456789abcdef"
	shopKey = "shop-key-0123456789abcdef"
	cafeKey = "cafe-key-0123456789abcdef"
	roKey   = "ro-key-0123456789abcdef"
)

// testNow is the server's fixed wall clock.
var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

type env struct {
	t    *testing.T
	srv  *api.Server
	mem  *apitest.Mem
	base string
	hc   *http.Client
}

func testKeys(t testing.TB) *api.Keys {
	k, err := api.ParseKeys([]byte(`
- {key: ` + opKey + `, role: operator}
- {key: ` + shopKey + `, role: partner, partner: shop}
- {key: ` + cafeKey + `, role: partner, partner: cafe}
- {key: ` + roKey + `, role: readonly}
`))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func start(t testing.TB, b api.Backend, mod func(*api.Config)) (*api.Server, string) {
	t.Helper()
	cfg := api.Config{Addr: "127.0.0.1:0", Backend: b, Keys: testKeys(t),
		Now: func() time.Time { return testNow }}
	if mod != nil {
		mod(&cfg)
	}
	s, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.ShutdownWithContext(ctx)
		<-done
	})
	return s, "http://" + s.Addr()
}

func newEnv(t *testing.T, mod func(*api.Config)) *env {
	t.Helper()
	mem := apitest.New(apitest.MustProgram(testProgram), true)
	s, base := start(t, mem, mod)
	return &env{t: t, srv: s, mem: mem, base: base, hc: &http.Client{
		Timeout:       20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type reply struct {
	status int
	body   string
	header http.Header
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("not a JSON object: %q", r.body)
	}
	return m
}

func (r reply) errCode(t *testing.T) string {
	t.Helper()
	m := r.json(t)
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %q", r.body)
	}
	if _, ok := e["message"].(string); !ok {
		t.Fatalf("no error message in %q", r.body)
	}
	return e["code"].(string)
}

func (e *env) do(method, path, key, body string) reply {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return reply{resp.StatusCode, string(b), resp.Header}
}

func (e *env) expect(method, path, key, body string, status int) reply {
	e.t.Helper()
	r := e.do(method, path, key, body)
	if r.status != status {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, status, r.body)
	}
	return r
}

// replayLines runs NDJSON lines through a fresh engine like `accrual
// replay` does and returns the result lines.
func replayLines(t testing.TB, p *engine.Program, lines [][]byte, batch int) []string {
	eng := engine.New(p)
	var dec engine.Decoder
	var out []string
	cmds := make([]engine.Command, 0, batch)
	var res []engine.Result
	flush := func() {
		res, _ = eng.Apply(cmds, res[:0], nil)
		for i := range res {
			out = append(out, string(eng.AppendJSON(nil, &res[i])))
		}
		cmds = cmds[:0]
		dec.Reset()
	}
	for _, l := range lines {
		cmds = append(cmds, engine.Command{})
		dec.Decode(l, &cmds[len(cmds)-1])
		if len(cmds) == batch {
			flush()
		}
	}
	flush()
	return out
}
