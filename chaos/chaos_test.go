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
	runShort(t, 30*time.Second, false, nil)
}

// TestChaosShortTLS is the same over HTTPS and a mutual-TLS Raft transport,
// the transport faults acting on the bytes under TLS, for half as long.
func TestChaosShortTLS(t *testing.T) {
	runShort(t, 15*time.Second, true, nil)
}

// Every fault corrupts a file of a node (the leader every other time):
// the node must refuse to start, naming the damage, and is rejoined as a
// new member; the run's checks (nothing lost or applied twice, identical
// replicas, the offline replay) hold across it.
func TestChaosShortCorrupt(t *testing.T) {
	runShort(t, 12*time.Second, false, []string{Corrupt})
}

// Every fault wipes a node's state and restarts it empty under its id: the
// cluster must refuse it (it lost what it acknowledged), and it is rejoined
// as a new member; the run's checks hold across it.
func TestChaosShortWipe(t *testing.T) {
	runShort(t, 10*time.Second, false, []string{Wipe})
}

func runShort(t *testing.T, dur time.Duration, useTLS bool, kinds []string) {
	if testing.Short() {
		t.Skip("starts three processes for up to a minute")
	}
	seed := uint64(1)
	if s := os.Getenv("CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seed = v
	}
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
	t.Logf("seed %d (repeat with CHAOS_SEED=%d go test -run %s ./chaos/)", seed, seed, t.Name())
	rep, err := Run(context.Background(), Config{
		Binary: bin, Dir: filepath.Join(dir, "run"), Duration: dur, Seed: seed, Nodes: 3, TLS: useTLS, Kinds: kinds,
		Log: testWriter{t},
	})
	if err != nil {
		logTails(t, filepath.Join(dir, "run"))
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	if !rep.OK() {
		logTails(t, filepath.Join(dir, "run"))
		t.Fatalf("chaos run failed (seed %d); node logs under %s", seed, dir)
	}
	if total := len(rep.Faults); total == 0 {
		t.Fatal("no fault injected")
	}
}

// logTails logs the end of every node's log of a failed run (the run's
// directory is a test temporary one, gone after the test).
func logTails(t *testing.T, dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "n*.log"))
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			continue
		}
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		t.Logf("--- end of %s:\n%s", filepath.Base(l), b)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}
