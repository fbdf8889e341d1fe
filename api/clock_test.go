package api_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accrual/accrual/api"
	"github.com/accrual/accrual/api/apitest"
	"github.com/accrual/accrual/api/wire"
)

// clockBackend is Mem with a cluster clock the test flips.
type clockBackend struct {
	*apitest.Mem
	synced *atomic.Bool
}

func (b clockBackend) ClusterTime() (int64, bool) { return testNow.UnixMilli(), b.synced.Load() }

func (b clockBackend) Clock() wire.ClockStatus {
	if b.synced.Load() {
		return wire.ClockStatus{Synchronized: true, ToleranceMS: 1000, Agreeing: 3, Voters: 3}
	}
	return wire.ClockStatus{OffsetMS: 31_536_000_000, ToleranceMS: 1000, Agreeing: 2, Voters: 3}
}

func (clockBackend) SetProgram([]byte, int64) error { return nil }

var _ api.ClockReporter = clockBackend{}

// While the leader's clock disagrees with the cluster's, every write that
// needs it to stamp a time (a command without `at`, a program change
// without ?at=) is refused, retryable, before anything is proposed;
// commands with `at` still apply; /metrics shows it.
func TestUnsynchronizedClockRefusesCommandsWithoutAt(t *testing.T) {
	mem := apitest.New(apitest.MustProgram(testProgram), false)
	synced := &atomic.Bool{}
	_, base := start(t, clockBackend{mem, synced}, nil)
	e := &env{t: t, mem: mem, base: base, hc: &http.Client{Timeout: 20 * time.Second}}
	if mt := e.expect("GET", "/metrics", opKey, "", 200).body; !strings.Contains(mt, "accrual_clock_synchronized 0") ||
		!strings.Contains(mt, "accrual_clock_offset_ms 3.1536e+10") {
		t.Fatalf("metrics lack the clock gauges:\n%s", mt)
	}
	_, before := mem.Counts()
	for _, w := range []struct{ method, path, body string }{
		{"POST", "/v1/purchases", `{"id":"p1","member":"M1","partner":"shop","amount":1000}`},
		{"POST", "/v1/commands", `[{"type":"purchase","id":"p2","member":"M1","partner":"shop","amount":100,"at":"2026-01-01T00:00:00Z"},{"type":"purchase","id":"p3","member":"M1","partner":"shop","amount":100}]`},
		{"PUT", "/v1/program", testProgram},
	} {
		r := e.expect(w.method, w.path, opKey, w.body, 503)
		if r.errCode(t) != "clock_unsynchronized" || !wire.ClockUnsynchronized.Retryable() {
			t.Errorf("%s %s, clock unsynchronized: %s", w.method, w.path, r.body)
		}
	}
	r := e.expect("POST", "/v1/stream", opKey, `{"type":"purchase","id":"p4","member":"M1","partner":"shop","amount":100}`+"\n", 200)
	if !strings.Contains(r.body, `"code":"clock_unsynchronized"`) {
		t.Errorf("stream, clock unsynchronized: %s", r.body)
	}
	if _, after := mem.Counts(); after != before {
		t.Fatalf("%d commands reached the backend while the clock was unsynchronized", after-before)
	}
	e.expect("POST", "/v1/purchases", opKey, `{"id":"p5","member":"M1","partner":"shop","amount":1000,"at":"2026-01-01T00:00:00Z"}`, 200)

	synced.Store(true)
	e.expect("POST", "/v1/purchases", opKey, `{"id":"p1","member":"M1","partner":"shop","amount":1000}`, 200)
	if mt := e.expect("GET", "/metrics", opKey, "", 200).body; !strings.Contains(mt, "accrual_clock_synchronized 1") {
		t.Fatalf("metrics, synchronized:\n%s", mt)
	}
}
