package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accrual/accrual/api"
	"github.com/accrual/accrual/api/apitest"
	"github.com/accrual/accrual/api/wire"
	"github.com/accrual/accrual/bench/workload"
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/insight"
)

const consoleKey = "console-op-key-0123456789abcdef"

// kpiMem is the in-memory test backend plus KPIs: a shadow engine and a
// collector see every submitted batch (the engine is deterministic, so the
// shadow equals apitest.Mem's own engine).
type kpiMem struct {
	*apitest.Mem
	mu     sync.Mutex
	shadow *engine.Engine
	col    *insight.Collector
	opt    insight.Options
}

func (m *kpiMem) Submit(ctx context.Context, cmds []engine.Command) ([]byte, error) {
	out, err := m.Mem.Submit(ctx, cmds)
	if err == nil {
		m.mu.Lock()
		res, ents := m.shadow.Apply(cmds, nil, nil)
		m.col.Observe(cmds, res, ents)
		m.mu.Unlock()
	}
	return out, err
}

func (m *kpiMem) KPIs() any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return insight.Compute(m.col, m.shadow, m.opt)
}

var _ api.KPISource = (*kpiMem)(nil)

// chromiumArgs are the flags of a headless run with a fresh profile.
func chromiumArgs(t *testing.T) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=6000"}
}

// dumpDOM loads url in headless Chromium and returns the DOM once the
// page's scripts ran.
func dumpDOM(t *testing.T, ctx context.Context, chromium, url string) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, chromium, append(chromiumArgs(t), "--dump-dom", url)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	return string(out)
}

// findChromium returns a headless-capable browser, or "".
func findChromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, b := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(b); err == nil {
			return p
		}
	}
	return ""
}

// consoleRewards is a reward catalogue added to the payback program, so
// that the console has stock to show (SPEC §10.5).
const consoleRewards = `rewards:
  - {id: mug, points: 50, partner: p000, stock: 5}
  - {id: voucher, points: 500, partner: p001}
`

// consoleServer starts api.New over kpiMem loaded with a payback history
// (whose app-launch campaign has a budget), then three claims.
func consoleServer(t *testing.T) (base string, mem *kpiMem) {
	g, err := workload.New(workload.Config{Profile: workload.Payback, Seed: 1, Members: 3000, Partners: 12,
		CommandsPerDay: 400})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := engine.ParseProgram(append(g.Program(), consoleRewards...))
	if err != nil {
		t.Fatal(err)
	}
	mem = &kpiMem{Mem: apitest.New(prog, true), shadow: engine.New(prog), col: insight.NewCollector(prog),
		opt: insight.Options{PointValueMinor: 0.5}}
	var dec engine.Decoder
	var line []byte
	var lastMS int64
	for range 20 {
		cmds := make([]engine.Command, 0, 4000)
		lines := make([]byte, 0, 4000*200)
		dec.Reset()
		for range 4000 {
			line = g.Next(line[:0])
			off := len(lines)
			lines = append(lines, strings.TrimSpace(string(line))...)
			var c engine.Command
			dec.Decode(lines[off:], &c)
			if c.Invalid || !c.HasAt() {
				continue
			}
			lastMS = max(lastMS, c.AtMS)
			cmds = append(cmds, c)
		}
		if _, err := mem.Submit(context.Background(), cmds); err != nil {
			t.Fatal(err)
		}
	}
	submitClaims(t, mem, lastMS, "mug", "mug", "voucher")
	return serveConsole(t, mem, time.UnixMilli(lastMS).Add(time.Hour)), mem
}

// submitClaims has one member with at least 500 points available claim
// each reward named, at atMS.
func submitClaims(t *testing.T, mem *kpiMem, atMS int64, rewards ...string) {
	var members []string
	mem.mu.Lock()
	_ = mem.shadow.Dump(func(v *engine.MemberView) error {
		if len(members) < len(rewards) && v.Available >= 500 {
			members = append(members, v.Member)
		}
		return nil
	})
	mem.mu.Unlock()
	if len(members) < len(rewards) {
		t.Fatalf("only %d members can claim", len(members))
	}
	var dec engine.Decoder
	cmds := make([]engine.Command, len(rewards))
	at := engine.FormatTime(atMS)
	for i, r := range rewards {
		dec.Decode([]byte(fmt.Sprintf(`{"type":"claim","id":"claim-%d","member":%q,"reward":%q,"at":%q}`, i, members[i], r, at)), &cmds[i])
	}
	if _, err := mem.Submit(context.Background(), cmds); err != nil {
		t.Fatal(err)
	}
}

// serveConsole starts api.New over mem, with the clock at now.
func serveConsole(t *testing.T, mem *kpiMem, now time.Time) string {
	t.Helper()
	keys, err := api.NewKeys([]api.Key{{Key: consoleKey, Role: "operator"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := api.New(api.Config{Addr: "127.0.0.1:0", Backend: mem, Keys: keys, Now: func() time.Time { return now }})
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
	return "http://" + s.Addr()
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+consoleKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// TestConsoleRoutes: the page is public and holds no data; the KPIs need a
// key.
func TestConsoleRoutes(t *testing.T) {
	base, _ := consoleServer(t)
	for _, c := range []struct {
		path, key string
		status    int
		ctype     string
	}{
		{"/console", "", 200, "text/html"},
		{"/console/", "", 200, "text/html"},
		{"/console/app.js", "", 200, "javascript"},
		{"/console/app.css", "", 200, "text/css"},
		{"/console/nope.js", "", 404, ""},
		{"/console/..%2fconsole.go", "", 404, ""},
		{"/v1/stats/kpis", "", 401, ""},
		{"/v1/stats/kpis", consoleKey, 200, "application/json"},
		{"/v1/stats/other", consoleKey, 404, ""},
	} {
		req, _ := http.NewRequest("GET", base+c.path, nil)
		if c.key != "" {
			req.Header.Set("Authorization", "Bearer "+c.key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.Contains(resp.Header.Get("Content-Type"), c.ctype) {
			t.Errorf("GET %s: %d %q, want %d %q", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), c.status, c.ctype)
		}
		if c.path == "/console" && strings.Contains(string(body), "payback") {
			t.Error("the console page carries data")
		}
	}
}

var dataValue = regexp.MustCompile(`id="([a-z0-9-]+)"[^>]*data-value="(-?[0-9.e+]*)"`)

// TestConsoleBrowser loads /console in headless Chromium and checks that the
// figures it shows equal the API's. Install Chromium with
// scripts/install-chromium.sh; CONSOLE_SCREENSHOTS=DIR also saves screenshots.
func TestConsoleBrowser(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		t.Skip("chromium is not installed: run scripts/install-chromium.sh (or set CHROMIUM=/path/to/chrome)")
	}
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	base, mem := consoleServer(t)
	var k insight.KPIs
	getJSON(t, base+"/v1/stats/kpis", &k)
	member := ""
	mem.mu.Lock()
	_ = mem.shadow.Dump(func(v *engine.MemberView) error {
		if member == "" && v.Available > 0 {
			member = v.Member
		}
		return nil
	})
	mem.mu.Unlock()
	var mv wire.Member
	getJSON(t, base+"/v1/members/"+member, &mv)
	partner := mem.Program().Partners[0].ID

	url := fmt.Sprintf("%s/console#key=%s&member=%s&partner=%s", base, consoleKey, member, partner)
	args := chromiumArgs(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dom := dumpDOM(t, ctx, chromium, url)
	shown := map[string]string{}
	for _, m := range dataValue.FindAllStringSubmatch(dom, -1) {
		shown[m[1]] = m[2]
	}
	want := map[string]int64{
		"kpi-members":         int64(k.Members),
		"kpi-buyers":          int64(k.Buyers),
		"kpi-liability":       k.Liability.Points,
		"kpi-liability-money": k.Liability.MoneyMinor,
		"kpi-redeemed":        k.Points.Redeemed,
		"kpi-active-90":       int64(k.Active[1].Members),
		"member-available":    mv.Available,
		"member-pending":      mv.Pending,
	}
	if len(k.Budgets) != 1 || k.Budgets[0].Spent == 0 || len(k.Catalogue) != 2 || k.Catalogue[0].Claimed != 2 || k.Catalogue[1].Claimed != 1 {
		t.Fatalf("KPIs: budgets %+v, catalogue %+v: want app-launch spending, 2 mugs and a voucher claimed", k.Budgets, k.Catalogue)
	}
	want["budget-0-spent"], want["budget-0-left"] = k.Budgets[0].Spent, k.Budgets[0].Left
	want["reward-0-claimed"], want["reward-0-left"] = k.Catalogue[0].Claimed, *k.Catalogue[0].Left
	want["reward-1-claimed"] = k.Catalogue[1].Claimed
	for id, w := range want {
		got, ok := shown[id]
		if !ok {
			t.Errorf("the console shows no %s", id)
			continue
		}
		if n, err := strconv.ParseInt(got, 10, 64); err != nil || n != w {
			t.Errorf("%s: console shows %q, API says %d", id, got, w)
		}
	}
	if _, ok := shown["settlement-issued"]; !ok {
		t.Error("the console shows no partner settlement")
	}
	if _, ok := shown["reward-1-left"]; ok {
		t.Error("the console shows a stock left for the unlimited voucher")
	}
	for _, frag := range []string{`id="chart-liability"[^>]*><svg`, `id="chart-tiers"[^>]*><svg`,
		`id="chart-monthly"[^>]*><svg`, `id="cluster-body"[^>]*><table`, `id="retention"[^>]*><table`} {
		if !regexp.MustCompile(frag).MatchString(dom) {
			t.Errorf("the console has no %s", frag)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
	if k.Members == 0 || k.Liability.Points == 0 || mv.Available == 0 {
		t.Fatalf("test history too small: %+v", k)
	}

	if dir := os.Getenv("CONSOLE_SCREENSHOTS"); dir != "" {
		for _, shot := range []struct{ name, size string }{{"console-overview.png", "1280,1600"}, {"console-lookup.png", "1280,2600"}} {
			file, _ := filepath.Abs(filepath.Join(dir, shot.name))
			cmd := exec.CommandContext(ctx, chromium, append(args, "--hide-scrollbars", "--screenshot="+file, "--window-size="+shot.size, url)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("screenshot: %v\n%s", err, out)
			}
		}
	}
}
