package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/accrual/accrual/api/apitest"
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/insight"
)

// firstMonthServer is a new install: a few purchases, all in one month.
func firstMonthServer(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../testdata/coalition.yaml")
	if err != nil {
		t.Fatal(err)
	}
	prog, err := engine.ParseProgram(src)
	if err != nil {
		t.Fatal(err)
	}
	mem := &kpiMem{Mem: apitest.New(prog, true), shadow: engine.New(prog), col: insight.NewCollector(prog),
		opt: insight.Options{PointValueMinor: 1}}
	var dec engine.Decoder
	cmds := make([]engine.Command, 3)
	for i := range cmds {
		line := fmt.Appendf(nil, `{"type":"purchase","id":"p%d","member":"M%d","partner":"grocer","amount":%d,"at":"2026-03-0%dT10:00:00Z"}`, i, i, 4200*(i+1), i+1)
		dec.Decode(line, &cmds[i])
	}
	if _, err := mem.Submit(context.Background(), cmds); err != nil {
		t.Fatal(err)
	}
	return serveConsole(t, mem, time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC))
}

var (
	svgOf     = func(id string) *regexp.Regexp { return regexp.MustCompile(`id="` + id + `"[^>]*>(<svg.*?</svg>)`) }
	svgLabels = regexp.MustCompile(`<text[^>]*>([^<]*)</text>`)
)

// TestConsoleFirstMonth: on a new install (one month of data, every value
// positive) the monthly line shows its one point, the liability bars'
// axis starts at 0 (not -1), and statement rows show whether points came
// or went.
func TestConsoleFirstMonth(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		t.Skip("chromium is not installed: run scripts/install-chromium.sh (or set CHROMIUM=/path/to/chrome)")
	}
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	base := firstMonthServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dom := dumpDOM(t, ctx, chromium, base+"/console#key="+consoleKey+"&member=M0")
	monthly := svgOf("chart-monthly").FindStringSubmatch(dom)
	if monthly == nil || !strings.Contains(monthly[1], "<circle") {
		t.Errorf("the monthly chart shows no point for its one month: %v", monthly)
	}
	liability := svgOf("chart-liability").FindStringSubmatch(dom)
	if liability == nil {
		t.Fatal("no liability chart")
	}
	labels := svgLabels.FindAllStringSubmatch(liability[1], -1)
	if len(labels) == 0 || labels[0][1] != "0" {
		t.Errorf("the liability axis of positive bars starts at %v, want 0", labels)
	}
	if !regexp.MustCompile(`class="pts in">\+[0-9]`).MatchString(dom) {
		t.Error("the statement shows no signed points for an earn")
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
}

// TestConsoleLoadsCountedAsConsole: the page's requests have a route label
// of their own in /metrics, not "unmatched".
func TestConsoleLoadsCountedAsConsole(t *testing.T) {
	base := firstMonthServer(t)
	for _, path := range []string{"/console", "/console/app.js"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+consoleKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := string(b); !strings.Contains(m, `accrual_http_requests_total{code="200",route="console"} 2`) || strings.Contains(m, `accrual_http_requests_total{code="200",route="unmatched"}`) {
		t.Fatalf("console loads in /metrics:\n%s", m)
	}
}
