package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accrual/accrual/api"
	"github.com/accrual/accrual/api/apitest"
)

// scrubBackend is Mem with a node's background scrub counts.
type scrubBackend struct{ *apitest.Mem }

func (scrubBackend) Scrub() (passes, damagedTables, bytes uint64) { return 3, 1, 4096 }

var _ api.ScrubReporter = scrubBackend{}

func TestMetricsExportTheScrub(t *testing.T) {
	mem := apitest.New(apitest.MustProgram(testProgram), false)
	_, base := start(t, scrubBackend{mem}, nil)
	e := &env{t: t, mem: mem, base: base, hc: &http.Client{Timeout: 20 * time.Second}}
	mt := e.expect("GET", "/metrics", opKey, "", 200).body
	for _, want := range []string{"accrual_scrub_passes_total 3", "accrual_scrub_damaged_tables_total 1", "accrual_scrub_read_bytes_total 4096"} {
		if !strings.Contains(mt, want) {
			t.Errorf("metrics lack %q:\n%s", want, mt)
		}
	}
}
