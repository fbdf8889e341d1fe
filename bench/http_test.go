package bench

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/accrual/accrual/bench/workload"
	"github.com/accrual/accrual/engine"
)

// fakeNode serves POST /v1/commands and GET /v1/members/{id} from an engine,
// as the real server's wire protocol does.
func fakeNode(t *testing.T, p *engine.Program, key string) *httptest.Server {
	var mu sync.Mutex
	eng := NewEngineTarget(p)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+key {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"unauthorized","message":"no key"}`)
			return
		}
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/commands":
			var cmds []json.RawMessage
			if err := json.NewDecoder(r.Body).Decode(&cmds); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"error":"invalid"}`)
				return
			}
			lines := make([][]byte, len(cmds))
			for i := range cmds {
				lines[i] = cmds[i]
			}
			out, _ := eng.Submit(r.Context(), lines, nil)
			w.Write([]byte("[" + strings.Join(strings.Split(strings.TrimSuffix(string(out), "\n"), "\n"), ",") + "]"))
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/members/"):
			if r.URL.Query().Get("consistency") != "linearizable" {
				t.Errorf("read without consistency=linearizable")
			}
			mu.Lock()
			v, ok := eng.Engine().Member(strings.TrimPrefix(r.URL.Path, "/v1/members/"), false)
			mu.Unlock()
			if !ok {
				w.WriteHeader(http.StatusNotFound)
				io.WriteString(w, `{"error":"not_found"}`)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"member": v.Member, "available": v.Available, "pending": v.Pending,
				"held": v.Held, "tier": v.Tier, "consistency": "linearizable"})
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
}

// TestHTTPTargetValidate: the HTTP target against a fake node, closed loop
// with one client, passes --validate; a wrong key fails whole batches,
// counted under the server's error code.
func TestHTTPTargetValidate(t *testing.T) {
	wc := smallWorkload(workload.Cashback)
	p := program(t, wc)
	srv := fakeNode(t, p, "k1")
	defer srv.Close()
	tg := NewHTTPTarget("http", []string{srv.URL}, "k1", 1)
	out, err := Run(context.Background(), tg, RunConfig{Workload: wc, Count: 2000, Batch: 128, Record: true})
	if err != nil {
		t.Fatal(err)
	}
	if out.Totals.Commands != 2000 || out.Totals.Failed != 0 {
		t.Fatalf("totals %+v", out.Totals)
	}
	v, err := ValidateBalances(context.Background(), p, out.Acked, tg, 200)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK || v.Checked < 100 {
		t.Fatalf("validation %+v", v)
	}

	bad := NewHTTPTarget("http", []string{srv.URL}, "wrong", 1)
	out, err = Run(context.Background(), bad, RunConfig{Workload: wc, Count: 300, Batch: 100})
	if err != nil {
		t.Fatal(err)
	}
	if out.Totals.Failed != 300 || out.Totals.Errors["unauthorized"] != 300 {
		t.Fatalf("failed batches not counted: %+v", out.Totals)
	}
}
