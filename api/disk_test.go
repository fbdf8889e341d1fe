package api_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accrual/accrual/api"
	"github.com/accrual/accrual/api/apitest"
	"github.com/accrual/accrual/engine"
)

// diskFullErr is what a backend short of space returns (the Raft node's
// *raft.DiskFullError has the same method).
type diskFullErr struct{}

func (diskFullErr) Error() string {
	return "disk full: the data directory /data has 1048576 bytes free, below the 268435456 bytes a node keeps in reserve"
}
func (diskFullErr) DiskFull() bool { return true }

// diskBackend is Mem with a disk guard the test flips: when full, every
// write is refused before it reaches Mem; reads go on.
type diskBackend struct {
	*apitest.Mem
	full *atomic.Bool
}

func (b diskBackend) Submit(ctx context.Context, cmds []engine.Command) ([]byte, error) {
	if b.full.Load() {
		return nil, diskFullErr{}
	}
	return b.Mem.Submit(ctx, cmds)
}

func (b diskBackend) SetProgram([]byte, int64) error {
	if b.full.Load() {
		return diskFullErr{}
	}
	return nil
}

func (b diskBackend) Disk() (uint64, bool) {
	if b.full.Load() {
		return 1 << 20, true
	}
	return 1 << 30, false
}

var _ api.DiskReporter = diskBackend{}

func TestDiskFullAnswers507(t *testing.T) {
	mem := apitest.New(apitest.MustProgram(testProgram), false)
	full := &atomic.Bool{}
	_, base := start(t, diskBackend{mem, full}, nil)
	e := &env{t: t, mem: mem, base: base, hc: &http.Client{Timeout: 20 * time.Second}}
	e.expect("POST", "/v1/purchases", opKey, `{"id":"p1","member":"M1","partner":"shop","amount":1000}`, 200)
	if mt := e.expect("GET", "/metrics", opKey, "", 200).body; !strings.Contains(mt, "accrual_disk_free_bytes 1.073741824e+09") ||
		!strings.Contains(mt, "accrual_disk_writes_refused 0") {
		t.Fatalf("metrics with room on disk lack the disk gauges:\n%s", mt)
	}

	full.Store(true)
	_, before := mem.Counts()
	for _, w := range []struct{ method, path, body string }{
		{"POST", "/v1/purchases", `{"id":"p2","member":"M1","partner":"shop","amount":1000}`},
		{"POST", "/v1/commands", `[{"type":"purchase","id":"p3","member":"M1","partner":"shop","amount":100}]`},
		{"PUT", "/v1/program", testProgram},
	} {
		r := e.expect(w.method, w.path, opKey, w.body, 507)
		if r.errCode(t) != "disk_full" || !strings.Contains(r.body, "/data has 1048576 bytes free") {
			t.Errorf("%s %s on a full disk: %s", w.method, w.path, r.body)
		}
	}
	r := e.expect("POST", "/v1/stream", opKey, `{"type":"purchase","id":"p4","member":"M1","partner":"shop","amount":100}`+"\n", 200)
	if !strings.Contains(r.body, `"code":"disk_full"`) || !strings.Contains(r.body, "results above are final") {
		t.Errorf("stream on a full disk: %s", r.body)
	}
	if _, after := mem.Counts(); after != before {
		t.Fatalf("%d commands reached the backend while the disk was full", after-before)
	}
	// Reads and quotes still answer.
	if m := e.expect("GET", "/v1/members/M1", opKey, "", 200).json(t); m["member"] != "M1" {
		t.Errorf("read on a full disk: %v", m)
	}
	e.expect("POST", "/v1/quote", opKey, `{"member":"M1","partner":"shop","amount":1000}`, 200)
	if mt := e.expect("GET", "/metrics", opKey, "", 200).body; !strings.Contains(mt, "accrual_disk_writes_refused 1") ||
		!strings.Contains(mt, "accrual_disk_free_bytes 1.048576e+06") || !strings.Contains(mt, `{code="507",route="convenience"}`) {
		t.Fatalf("metrics on a full disk:\n%s", mt)
	}

	full.Store(false)
	if r := e.expect("POST", "/v1/purchases", opKey, `{"id":"p2","member":"M1","partner":"shop","amount":1000}`, 200).json(t); r["duplicate"] == true {
		t.Fatalf("a refused command's id was taken: %v", r)
	}
}
