package faultinject

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/accrual/accrual/raft"
	"github.com/hashicorp/go-hclog"
)

// clock_offset_ms shifts the node's wall clock (raft.Seams.Clock), and
// its removal puts it back.
func TestClockOffsetShiftsTheWallClock(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, RulesName)
	cfg := raft.Config{DataDir: dir, Logger: hclog.NewNullLogger()}
	inj, err := Install(&cfg, rules)
	if err != nil {
		t.Fatal(err)
	}
	defer inj.Close()
	for _, tc := range []struct {
		rules string
		want  time.Duration
	}{
		{`{"clock_offset_ms": 31536000000}`, 365 * 24 * time.Hour},
		{`{"clock_offset_ms": -86400000}`, -24 * time.Hour},
		{`{}`, 0},
	} {
		if err := os.WriteFile(rules, []byte(tc.rules), 0o600); err != nil {
			t.Fatal(err)
		}
		inj.w.load()
		if d := time.Until(cfg.Seams.Clock()) - tc.want; d < -time.Second || d > time.Second {
			t.Fatalf("%s: the clock is %v off the wanted shift %v", tc.rules, d, tc.want)
		}
	}
}
