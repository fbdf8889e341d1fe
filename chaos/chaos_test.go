package chaos

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestChaosShort is the short form of `accrual chaos`: a real three-node
// cluster (`accrual serve` processes built from ../cmd/accrual) under the
// payback workload and a hot counter, with kills, pauses, partitions,
// message loss and slow disks for CHAOS_DURATION (default 30s), seed CHAOS_SEED (default 1).
func TestChaosShort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes for ~45s")
	}
	seed := uint64(1)
	if s := os.Getenv("CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seed = v
	}
	dur := 30 * time.Second
	if s := os.Getenv("CHAOS_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		dur = d
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "accrual")
	build := exec.Command("go", "build", "-o", bin, "../cmd/accrual")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("seed %d (repeat with CHAOS_SEED=%d go test ./chaos/)", seed, seed)
	rep, err := Run(context.Background(), Config{
		Binary: bin, Dir: filepath.Join(dir, "run"), Duration: dur, Seed: seed, Nodes: 3,
		Log: testWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	if !rep.OK() {
		t.Fatalf("chaos run failed (seed %d); node logs under %s", seed, dir)
	}
	if total := len(rep.Faults); total == 0 {
		t.Fatal("no fault injected")
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}
