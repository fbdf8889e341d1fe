package api_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accrual/accrual/api"
	"github.com/accrual/accrual/api/apitest"
	"github.com/accrual/accrual/api/wire"
	"github.com/accrual/accrual/engine"
)

func results(t *testing.T, r reply) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("not a JSON array: %q", r.body)
	}
	return out
}

func TestCommandsBatch(t *testing.T) {
	e := newEnv(t, nil)
	body := `[
	 {"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":10000,"at":"2026-06-01T10:00:00Z"},
	 {"type":"purchase","id":"p2","member":"M1","partner":"shop","amount":5000},
	 {"type":"purchase","id":"bad","member":"M1","partner":"shop","amount":5000,"colour":"red"},
	 {"type":"quote","member":"M1","partner":"shop","amount":20000},
	 {"type":"purchase","id":"fut","member":"M1","partner":"shop","amount":5000,"at":"2026-06-01T12:06:00Z"},
	 {"type":"purchase","id":"edge","member":"M1","partner":"shop","amount":100,"at":"2026-06-01T12:05:00Z"},
	 {"type":"redeem","id":"r1","member":"M1","partner":"shop","points":100000},
	 {"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":10000},
	 {"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":999},
	 {"type":"purchase","id":"x", "member":"M1","partner":"shop","amount":1.5},
	 {not json},
	 {"type":"tick"}
	]`
	r := e.expect("POST", "/v1/commands", opKey, body, 200)
	got := results(t, r)
	want := []struct{ id, status, err string }{
		{"p1", "ok", ""}, {"p2", "ok", ""}, {"bad", "error", "invalid"}, {"", "ok", ""},
		{"fut", "error", "at_in_future"}, {"edge", "ok", ""}, {"r1", "error", "insufficient_points"},
		{"p1", "ok", ""}, {"p1", "error", "id_conflict"}, {"x", "error", "invalid"}, {"", "error", "invalid"}, {"", "ok", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d: %s", len(got), len(want), r.body)
	}
	for i, w := range want {
		g := got[i]
		id, _ := g["id"].(string)
		errc, _ := g["error"].(string)
		if id != w.id || g["status"] != w.status || errc != w.err {
			t.Errorf("result %d = %v, want %+v", i, g, w)
		}
	}
	if got[0]["points"].(float64) != 200 { // 100 + welcome 100
		t.Errorf("p1 points %v", got[0]["points"])
	}
	if got[3]["discount"] == nil || got[3]["tier"] == nil {
		t.Errorf("quote result %v", got[3])
	}
	if got[7]["duplicate"] != true {
		t.Errorf("resent p1 is no duplicate: %v", got[7])
	}
	// the quote never entered the log: submits 1 (p1,p2), then edge…tick
	if sub, n := e.mem.Counts(); sub != 2 || n != 7 {
		t.Errorf("submits %d commands %d, want 2 and 7", sub, n)
	}
	// empty batch
	if r := e.expect("POST", "/v1/commands", opKey, ` [ ] `, 200); r.body != "[]" {
		t.Errorf("empty batch answered %q", r.body)
	}
}

func TestCommandsFraming(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.MaxBodyBytes = 64 << 10 })
	for _, body := range []string{``, `{}`, `[`, `[{}`, `[{},]`, `[,{}]`, `[{}] x`, `[{"a":"]`, `[{]}]`, `[{"type":"tick"}}`, `"x"`} {
		r := e.expect("POST", "/v1/commands", opKey, body, 400)
		if c := r.errCode(t); c != "invalid" {
			t.Errorf("%q: code %s", body, c)
		}
	}
	// too many commands
	many := "[" + strings.Repeat(`{"type":"tick"},`, api.MaxBatch) + `{"type":"tick"}]`
	e2 := newEnv(t, nil)
	r := e2.expect("POST", "/v1/commands", opKey, many, 413)
	if r.errCode(t) != "batch_too_large" {
		t.Error(r.body)
	}
	// exactly MaxBatch is fine
	r = e2.expect("POST", "/v1/commands", opKey, "["+strings.Repeat(`{"type":"tick"},`, api.MaxBatch-1)+`{"type":"tick"}]`, 200)
	if n := len(results(t, r)); n != api.MaxBatch {
		t.Errorf("%d results", n)
	}
	// body over MaxBodyBytes (content-length known)
	big := "[" + strings.Repeat(`{"type":"tick"},`, 8000) + `{"type":"tick"}]`
	r = e.expect("POST", "/v1/commands", opKey, big, 413)
	if r.errCode(t) != "body_too_large" {
		t.Error(r.body)
	}
	// chunked body over the limit
	req, _ := http.NewRequest("POST", e.base+"/v1/commands", struct{ *strings.Reader }{strings.NewReader(big)})
	req.Header.Set("Authorization", "Bearer "+opKey)
	resp, err := e.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 || req.ContentLength != 0 {
		t.Errorf("chunked oversize: %d (content length %d)", resp.StatusCode, req.ContentLength)
	}
}

func TestConveniences(t *testing.T) {
	e := newEnv(t, nil)
	ok := func(path, body string) map[string]any {
		t.Helper()
		return e.expect("POST", path, opKey, body, 200).json(t)
	}
	fail := func(path, body string, status int, code string) {
		t.Helper()
		r := e.expect("POST", path, opKey, body, status)
		if c := r.errCode(t); c != code {
			t.Errorf("%s %s: code %s, want %s", path, body, c, code)
		}
	}
	if r := ok("/v1/purchases", `{"id":"p1","member":"M1","partner":"shop","amount":100000}`); r["points"].(float64) != 1100 {
		t.Errorf("purchase: %v", r)
	}
	ok("/v1/purchases", `{"id":"p1","member":"M1","partner":"shop","amount":100000}`) // duplicate: 200
	fail("/v1/purchases", `{"id":"p1","member":"M1","partner":"shop","amount":5}`, 409, "id_conflict")
	fail("/v1/purchases", `{"id":"p9","member":"M1","partner":"nope","amount":5}`, 422, "unknown_partner")
	fail("/v1/purchases", `{"id":"p9","member":"M1","partner":"shop"}`, 400, "invalid")
	fail("/v1/purchases", `{}`, 400, "invalid")
	fail("/v1/purchases", `[]`, 400, "invalid")
	fail("/v1/purchases", `{"type":"adjust","id":"a9","member":"M1","points":5}`, 400, "invalid")
	fail("/v1/purchases", `{"id":"p9","member":"M1","partner":"shop","amount":5,"at":"2027-01-01T00:00:00Z"}`, 422, "at_in_future")
	ok("/v1/refunds", `{"id":"rf1","member":"M1","partner":"shop","original":"p1","amount":10000}`)
	fail("/v1/refunds", `{"id":"rf2","member":"M1","partner":"shop","original":"p1","amount":100000}`, 422, "refund_exceeds_purchase")
	ok("/v1/redemptions", `{"id":"rd1","member":"M1","partner":"shop","points":50}`)
	fail("/v1/redemptions", `{"id":"rd2","member":"M1","partner":"shop","points":1000000}`, 422, "insufficient_points")
	ok("/v1/redemptions/rd1/cancel", `{"id":"c1"}`)
	fail("/v1/redemptions/rd1/cancel", `{"id":"c2"}`, 422, "already_cancelled")
	fail("/v1/redemptions/rd1/cancel", `{"id":"c3","original":"other"}`, 400, "invalid")
	ok("/v1/adjustments", `{"id":"a1","member":"M1","points":-5,"reason":"goodwill"}`)
	ok("/v1/memberships", `{"id":"m1","member":"M1","plan":"plus"}`)
	fail("/v1/memberships", `{"id":"m2","member":"M1","plan":"gold"}`, 422, "unknown_plan")
	ok("/v1/referrals", `{"id":"ref1","member":"M1","referred":"M2"}`)
	ok("/v1/actions", `{"id":"ac1","member":"M1","action":"recycling"}`)
	ok("/v1/transfers", `{"id":"t1","member":"M1","to":"M3","points":100}`)
	if r := ok("/v1/holds", `{"id":"h1","member":"M1","partner":"shop","points":200,"timeout_s":60}`); r["held"].(float64) != 200 {
		t.Errorf("hold: %v", r)
	}
	ok("/v1/holds/h1/capture", `{"id":"cap1","points":50}`)
	fail("/v1/holds/h1/release", `{"id":"rel1"}`, 422, "hold_closed")
	ok("/v1/holds", `{"id":"h2","member":"M1","partner":"shop","points":20}`)
	ok("/v1/holds/h2/release", `{"id":"rel2"}`)
	fail("/v1/holds/h%20x/release", `{"id":"rel3"}`, 400, "invalid")
	e.expect("POST", "/v1/holds/h2/explode", opKey, `{}`, 404)
	// a rejected single carries its result
	r := e.expect("POST", "/v1/redemptions", opKey, `{"id":"rd2","member":"M1","partner":"shop","points":1000000}`, 422)
	if res, _ := r.json(t)["result"].(map[string]any); res["duplicate"] != true {
		t.Errorf("rejected duplicate: %s", r.body)
	}

	// quote: read-only
	subs, _ := e.mem.Counts()
	q := e.expect("POST", "/v1/quote", opKey, `{"member":"M1","partner":"shop","amount":100000}`, 200).json(t)
	if q["status"] != "ok" || q["discount"] == nil {
		t.Errorf("quote %v", q)
	}
	e.expect("POST", "/v1/quote", opKey, `{"type":"quote","member":"NEW","partner":"shop","amount":1000}`, 200)
	fail("/v1/quote", `{"member":"M1","partner":"zzz","amount":100}`, 422, "unknown_partner")
	fail("/v1/quote", `{"member":"M1","partner":"shop"}`, 400, "invalid")
	fail("/v1/quote", `{"type":"purchase","id":"qq","member":"M1","partner":"shop","amount":100}`, 400, "invalid")
	if s2, _ := e.mem.Counts(); s2 != subs {
		t.Errorf("quotes entered the log: submits %d → %d", subs, s2)
	}
}

func TestReads(t *testing.T) {
	e := newEnv(t, nil)
	e.expect("POST", "/v1/commands", opKey, `[
	 {"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":200000,"at":"2026-05-01T00:00:00Z"},
	 {"type":"purchase","id":"p2","member":"M1","partner":"shop","amount":100000,"at":"2026-05-20T00:00:00Z"},
	 {"type":"adjust","id":"a1","member":"M1","points":7},
	 {"type":"membership","id":"m1","member":"M1","plan":"plus"}]`, 200)
	m := e.expect("GET", "/v1/members/M1", opKey, "", 200).json(t)
	if m["tier"] != "gold" || m["discount_bp"].(float64) != 700 || len(m["perks"].([]any)) != 2 || m["plan"] != "plus" ||
		m["consistency"] != "linearizable" || m["available"].(float64) != 2100+1200+7 {
		t.Errorf("member %v", m)
	}
	if _, ok := m["lots"]; ok {
		t.Errorf("member without lots=true answers lots: %v", m)
	}
	lots := e.expect("GET", "/v1/members/M1?lots=true", opKey, "", 200).json(t)["lots"].([]any)
	if len(lots) != 2 || lots[0].(map[string]any)["expires"] != "2027-05" || lots[0].(map[string]any)["available"].(float64) != 3300 ||
		lots[1].(map[string]any)["expires"] != "2027-06" || lots[1].(map[string]any)["available"].(float64) != 7 {
		t.Errorf("lots %v", lots)
	}
	for _, c := range []string{"leader", "stale"} {
		if m := e.expect("GET", "/v1/members/M1?consistency="+c, roKey, "", 200).json(t); m["consistency"] != c {
			t.Error(m)
		}
	}
	for _, bad := range []string{"?consistency=eventual", "?colour=red", "?consistency=stale&consistency=leader"} {
		if c := e.expect("GET", "/v1/members/M1"+bad, opKey, "", 400).errCode(t); c != "invalid" {
			t.Error(c)
		}
	}
	e.expect("GET", "/v1/members/NOBODY", opKey, "", 404)
	e.expect("GET", "/v1/members/bad%20id", opKey, "", 400)

	st := e.expect("GET", "/v1/members/M1/statement?limit=2", opKey, "", 200).json(t)
	if len(st["entries"].([]any)) != 2 || st["next"] == nil {
		t.Fatalf("statement %v", st)
	}
	st2 := e.expect("GET", "/v1/members/M1/statement?limit=2&cursor="+st["next"].(string), opKey, "", 200).json(t)
	if len(st2["entries"].([]any)) == 0 {
		t.Errorf("page 2 %v", st2)
	}
	e.expect("GET", "/v1/members/M1/statement?limit=0", opKey, "", 400)
	e.expect("GET", "/v1/members/M1/statement?limit=abc", opKey, "", 400)
	e.expect("GET", "/v1/members/M1/statement?cursor=zz", opKey, "", 400) // backend: invalid argument
	e.expect("GET", "/v1/members/NOBODY/statement", opKey, "", 404)

	b := e.expect("GET", "/v1/members/M1/balance?at=2026-05-10T00:00:00Z", opKey, "", 200).json(t)
	if b["available"].(float64) != 2100 {
		t.Errorf("balance %v", b)
	}
	e.expect("GET", "/v1/members/M1/balance", opKey, "", 200)
	e.expect("GET", "/v1/members/M1/balance?at=yesterday", opKey, "", 400)

	c := e.expect("GET", "/v1/commands/p1", opKey, "", 200).json(t)
	if len(c["entries"].([]any)) == 0 {
		t.Errorf("command %v", c)
	}
	e.expect("GET", "/v1/commands/nope", opKey, "", 404)

	s := e.expect("GET", "/v1/partners/shop/settlement?from=2026-01-01T00:00:00Z&to=2026-12-31T00:00:00Z", opKey, "", 200).json(t)
	if s["partner"].(map[string]any)["issued"].(float64) != 2100+1200 {
		t.Errorf("settlement %v", s)
	}
	e.expect("GET", "/v1/partners/shop/settlement", opKey, "", 200)
	e.expect("GET", "/v1/partners/shop/settlement?from=2026-12-31T00:00:00Z&to=2026-01-01T00:00:00Z", opKey, "", 400)
	e.expect("GET", "/v1/partners/zzz/settlement", opKey, "", 404)
	e.expect("GET", "/v1/partners/BAD!/settlement", opKey, "", 400)

	if st := e.expect("GET", "/v1/stats", opKey, "", 200).json(t); st["members"].(float64) != 1 {
		t.Errorf("stats %v", st)
	}
	if p := e.expect("GET", "/v1/program", opKey, "", 200); !strings.Contains(p.body, "program: test") || p.header.Get("Content-Type") != "application/yaml" {
		t.Errorf("program %q %v", p.body, p.header)
	}
	e.expect("GET", "/v1/cluster", opKey, "", 200)
	e.expect("GET", "/healthz", "", "", 200)
	e.expect("GET", "/readyz", "", "", 200)
	e.srv.SetReady(false)
	e.expect("GET", "/readyz", "", "", 503)
	e.srv.SetReady(true)
	e.expect("GET", "/nope", opKey, "", 404)
	e.expect("GET", "/v1/nope", opKey, "", 404)
	e.expect("GET", "/v1/members/a/b/c", opKey, "", 404)
	if r := e.expect("GET", "/v1/commands", opKey, "", 405); r.header.Get("Allow") != "POST" {
		t.Error(r.header)
	}
	e.expect("POST", "/v1/members/M1", opKey, "{}", 405)
	e.expect("DELETE", "/v1/stats", opKey, "", 405)

	mt := e.expect("GET", "/metrics", opKey, "", 200).body
	for _, want := range []string{`accrual_http_requests_total{code="200",route="member"}`, `accrual_commands_total{error="",status="ok"}`,
		`accrual_submit_batch_commands_bucket`, `accrual_http_request_duration_seconds_bucket{route="commands"`} {
		if !strings.Contains(mt, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestAuthMatrix checks every role against every kind of endpoint.
func TestAuthMatrix(t *testing.T) {
	e := newEnv(t, nil)
	e.expect("POST", "/v1/purchases", opKey, `{"id":"seed","member":"M1","partner":"shop","amount":100000}`, 200)
	type call struct{ method, path, body string }
	n := 0
	uniq := func(s string) string { n++; return strings.ReplaceAll(s, "ID", fmt.Sprintf("id%d", n)) }
	calls := map[string]func() call{
		"shop purchase": func() call {
			return call{"POST", "/v1/purchases", uniq(`{"id":"ID","member":"M1","partner":"shop","amount":100}`)}
		},
		"cafe purchase": func() call {
			return call{"POST", "/v1/purchases", uniq(`{"id":"ID","member":"M1","partner":"cafe","amount":100}`)}
		},
		"batch shop": func() call {
			return call{"POST", "/v1/commands", uniq(`[{"type":"purchase","id":"ID","member":"M1","partner":"shop","amount":100}]`)}
		},
		"batch mixed": func() call {
			return call{"POST", "/v1/commands", uniq(`[{"type":"purchase","id":"ID","member":"M1","partner":"shop","amount":100},{"type":"adjust","id":"xID","member":"M1","points":1}]`)}
		},
		"stream shop": func() call {
			return call{"POST", "/v1/stream", uniq(`{"type":"redeem","id":"ID","member":"M1","partner":"shop","points":10}` + "\n")}
		},
		"adjust":      func() call { return call{"POST", "/v1/adjustments", uniq(`{"id":"ID","member":"M1","points":1}`)} },
		"quote shop":  func() call { return call{"POST", "/v1/quote", `{"member":"M1","partner":"shop","amount":100}`} },
		"member":      func() call { return call{"GET", "/v1/members/M1", ""} },
		"statement":   func() call { return call{"GET", "/v1/members/M1/statement", ""} },
		"settle shop": func() call { return call{"GET", "/v1/partners/shop/settlement", ""} },
		"settle cafe": func() call { return call{"GET", "/v1/partners/cafe/settlement", ""} },
		"stats":       func() call { return call{"GET", "/v1/stats", ""} },
		"cluster":     func() call { return call{"GET", "/v1/cluster", ""} },
		"state hash":  func() call { return call{"GET", "/v1/cluster/state-hash?at=1", ""} },
		"backup":      func() call { return call{"GET", "/v1/cluster/backup", ""} },
		"command":     func() call { return call{"GET", "/v1/commands/seed", ""} },
		"program":     func() call { return call{"GET", "/v1/program", ""} },
		"metrics":     func() call { return call{"GET", "/metrics", ""} },
		"healthz":     func() call { return call{"GET", "/healthz", ""} },
	}
	// expected status per role: none (no key), bad key, operator, shop partner, readonly
	matrix := map[string][5]int{
		"shop purchase": {401, 401, 200, 200, 403},
		"cafe purchase": {401, 401, 200, 403, 403},
		"batch shop":    {401, 401, 200, 200, 403},
		"batch mixed":   {401, 401, 200, 403, 403},
		"stream shop":   {401, 401, 200, 200, 403},
		"adjust":        {401, 401, 200, 403, 403},
		"quote shop":    {401, 401, 200, 200, 403},
		"member":        {401, 401, 200, 200, 200},
		"statement":     {401, 401, 200, 200, 200},
		"settle shop":   {401, 401, 200, 200, 200},
		"settle cafe":   {401, 401, 200, 403, 200},
		"stats":         {401, 401, 200, 403, 200},
		"cluster":       {401, 401, 200, 403, 200},
		"state hash":    {401, 401, 501, 403, 501}, // the in-memory backend has no replicated state
		"backup":        {401, 401, 501, 403, 403}, // operator only; nothing to back up in memory
		"command":       {401, 401, 200, 403, 200},
		"program":       {401, 401, 200, 200, 200},
		"metrics":       {401, 401, 200, 403, 200},
		"healthz":       {200, 200, 200, 200, 200},
	}
	keys := [5]string{"", "wrong-key-0123456789abcdef", opKey, shopKey, roKey}
	for name, want := range matrix {
		for i, key := range keys {
			c := calls[name]()
			r := e.do(c.method, c.path, key, c.body)
			if r.status != want[i] {
				t.Errorf("%s with key #%d: %d, want %d (%s)", name, i, r.status, want[i], r.body)
			}
			if r.status == 401 && r.errCode(t) != "unauthorized" || r.status == 403 && r.errCode(t) != "forbidden" {
				t.Errorf("%s: %s", name, r.body)
			}
		}
	}
	// X-API-Key works too
	req, _ := http.NewRequest("GET", e.base+"/v1/stats", nil)
	req.Header.Set("X-API-Key", roKey)
	resp, err := e.hc.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("X-API-Key: %v %v", resp, err)
	}
	resp.Body.Close()
	// a partner stream with a foreign command ends with an error line
	r := e.expect("POST", "/v1/stream", shopKey, `{"type":"purchase","id":"s1","member":"M1","partner":"cafe","amount":100}`+"\n", 200)
	if !strings.Contains(r.body, `"code":"forbidden"`) {
		t.Errorf("partner stream: %s", r.body)
	}
}

// failing wraps Mem, panicking in Stats.
type panicky struct{ *apitest.Mem }

func (panicky) Stats() wire.Stats { panic("boom") }

func TestBackendErrors(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.SubmitTimeout = 100 * time.Millisecond })
	cmd := `[{"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":100}]`
	e.mem.SetErr(apitest.NotLeader{Leader: "10.0.0.2:8080"})
	r := e.expect("POST", "/v1/commands", opKey, cmd, 421)
	if r.errCode(t) != "not_leader" || r.json(t)["error"].(map[string]any)["leader"] != "http://10.0.0.2:8080" {
		t.Error(r.body)
	}
	r = e.expect("GET", "/v1/members/M1?consistency=leader", opKey, "", 307)
	if r.header.Get("Location") != "http://10.0.0.2:8080/v1/members/M1?consistency=leader" {
		t.Error(r.header)
	}
	e.mem.SetErr(apitest.NotLeader{})
	if r := e.expect("POST", "/v1/purchases", opKey, `{"id":"p1","member":"M1","partner":"shop","amount":100}`, 503); r.header.Get("Retry-After") == "" {
		t.Error(r.header)
	}
	e.mem.SetErr(fmt.Errorf("wrapped: %w", apitest.Overloaded{}))
	r = e.expect("POST", "/v1/commands", opKey, cmd, 503)
	if r.errCode(t) != "overloaded" || r.header.Get("Retry-After") != "1" {
		t.Error(r.body, r.header)
	}
	e.mem.SetErr(api.ErrOverloaded)
	e.expect("POST", "/v1/commands", opKey, cmd, 503)
	r = e.expect("POST", "/v1/stream", opKey, `{"type":"tick"}`+"\n", 200)
	if !strings.Contains(r.body, `"code":"overloaded"`) {
		t.Error(r.body)
	}
	e.mem.SetErr(fmt.Errorf("disk on fire"))
	e.expect("POST", "/v1/commands", opKey, cmd, 500)
	e.mem.SetErr(nil)
	e.mem.SetDelay(time.Second)
	if r := e.expect("POST", "/v1/commands", opKey, cmd, 504); r.errCode(t) != "timeout" {
		t.Error(r.body)
	}
	e.mem.SetDelay(0)
	e.expect("POST", "/v1/commands", opKey, cmd, 200)

	// a panic is a 500 and the server lives on
	mem := apitest.New(apitest.MustProgram(testProgram), false)
	_, base := start(t, panicky{mem}, nil)
	e2 := &env{t: t, mem: mem, base: base, hc: e.hc}
	if r := e2.expect("GET", "/v1/stats", opKey, "", 500); r.errCode(t) != "internal" {
		t.Error(r.body)
	}
	e2.expect("GET", "/healthz", "", "", 200)
}

func TestConfig(t *testing.T) {
	mem := apitest.New(apitest.MustProgram(testProgram), false)
	if _, err := api.New(api.Config{Backend: mem}); err == nil {
		t.Error("nil Keys accepted")
	}
	if _, err := api.New(api.Config{Keys: testKeys(t)}); err == nil {
		t.Error("nil Backend accepted")
	}
	_, base := start(t, mem, func(c *api.Config) { c.Keys = nil; c.InsecureNoAuth = true; c.PublicMetrics = true })
	e := &env{t: t, base: base, hc: http.DefaultClient}
	e.expect("GET", "/v1/stats", "", "", 200)
	e.expect("GET", "/metrics", "", "", 200)
	for _, bad := range []string{`[{key: short, role: operator}]`, `[{key: 0123456789abcdefX, role: king}]`,
		`[{key: 0123456789abcdefX, role: partner}]`, `[{key: 0123456789abcdefX, role: operator, partner: shop}]`,
		`[{key: 0123456789abcdefX, role: operator}, {key: 0123456789abcdefX, role: readonly}]`, `: :`} {
		if _, err := api.ParseKeys([]byte(bad)); err == nil {
			t.Errorf("keys %s accepted", bad)
		}
	}
	if k, err := api.ParseKeys([]byte(`{"keys":[{"key":"0123456789abcdefX","role":"readonly"}]}`)); err != nil || k.Len() != 1 {
		t.Errorf("JSON keys: %v", err)
	}
	k1, k2 := api.GenerateKey(), api.GenerateKey()
	if k1 == k2 || len(k1) < 40 {
		t.Error(k1, k2)
	}
}

// TestSlowBody: a client that stops sending its body gets 408 (or a
// closed connection) after ReadTimeout, and the server serves others.
func TestSlowBody(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.ReadTimeout = 300 * time.Millisecond })
	for _, path := range []string{"/v1/commands", "/v1/purchases"} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 100000\r\n\r\n[", path, opKey)
		// send 9 KiB (past fasthttp's 8 KiB prefetch) then stall
		conn.Write([]byte(strings.Repeat(" ", 9<<10)))
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		startT := time.Now()
		buf := make([]byte, 4096)
		n, _ := conn.Read(buf)
		conn.Close()
		if el := time.Since(startT); el > 3*time.Second {
			t.Errorf("%s: waited %v", path, el)
		}
		if n > 0 && !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 408") {
			t.Errorf("%s: got %q", path, buf[:n])
		}
	}
	e.expect("GET", "/healthz", "", "", 200)
}

func TestStreamSmall(t *testing.T) {
	e := newEnv(t, nil)
	body := "\n" + `{"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":10000}` + "\n\n" +
		`{"type":"quote","member":"M1","partner":"shop","amount":100}` + "\r\n" +
		`garbage` + "\n" + `{"type":"purchase","id":"f","member":"M1","partner":"shop","amount":1,"at":"2030-01-01T00:00:00Z"}` + "\n" +
		strings.Repeat("x", api.MaxLineBytes+10) + "\n" +
		`{"type":"redeem","id":"r1","member":"M1","partner":"shop","points":10}` // no final newline
	r := e.expect("POST", "/v1/stream", opKey, body, 200)
	lines := strings.Split(strings.TrimSuffix(r.body, "\n"), "\n")
	want := []string{`"id":"p1","status":"ok"`, `"status":"ok","points"`, `"status":"error","error":"invalid"`,
		`"error":"at_in_future"`, `"error":"invalid"`, `"id":"r1","status":"ok"`}
	if len(lines) != len(want) {
		t.Fatalf("%d lines: %s", len(lines), r.body)
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("line %d %s lacks %s", i, lines[i], w)
		}
	}
	if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Error(ct)
	}
	e.expect("POST", "/v1/stream", opKey, "", 200)
}

var _ = engine.TypeNone
