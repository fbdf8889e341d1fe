package faultinject

import (
	"testing"

	"github.com/accrual/accrual/raft"
)

func TestNothingInstalledWithoutFaultsEnv(t *testing.T) {
	t.Setenv(EnvVar, "")
	cfg := raft.Config{DataDir: t.TempDir()}
	inj, err := FromEnv(&cfg)
	if err != nil || inj != nil {
		t.Fatalf("FromEnv without %s=1: %v, %v", EnvVar, inj, err)
	}
	if s := cfg.Seams; s.Stream != nil || s.RaftStore != nil || s.Snapshots != nil || s.Logs != nil || cfg.Logger != nil {
		t.Fatalf("faults off: the config was changed: %+v", cfg)
	}
	if err := inj.Close(); err != nil {
		t.Fatal(err)
	}
}
