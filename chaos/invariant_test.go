package chaos

import (
	"testing"

	"github.com/accrual/accrual/bench/workload"
	"github.com/accrual/accrual/engine"
	"github.com/anishathalye/porcupine"
)

// TestOfflineInvariant: the per-member invariant the chaos checks rely on
// holds on an offline replay of the same workload (so a violation in a run
// is the cluster's fault, not the check's).
func TestOfflineInvariant(t *testing.T) {
	g, err := workload.New(workload.Config{Profile: workload.Payback, Seed: 7, Members: 200})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := engine.ParseProgram(g.Program())
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(prog)
	var dec engine.Decoder
	cmds := make([]engine.Command, 1)
	var res []engine.Result
	codes := map[string]int{}
	for i := 0; i < 20000; i++ {
		line := g.Next(nil)
		dec.Reset()
		dec.Decode(line, &cmds[0])
		res, _ = eng.Apply(cmds, res[:0], nil)
		codes[res[0].Err.String()]++
	}
	t.Logf("results: %v", codes)
	for mi := int32(0); mi < int32(eng.Members()); mi++ {
		v := eng.View(mi, false)
		if err := CheckInvariant(v); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCounterModelCatchesStaleRead: the linearizability check is not
// vacuous: a read that misses an acknowledged write is illegal.
func TestCounterModelCatchesStaleRead(t *testing.T) {
	ok := []porcupine.Operation{
		{ClientId: 0, Input: hotInput{true}, Call: 0, Output: int64(1), Return: 10},
		{ClientId: 1, Input: hotInput{false}, Call: 5, Output: int64(0), Return: 8}, // concurrent: may miss it
		{ClientId: 1, Input: hotInput{false}, Call: 11, Output: int64(1), Return: 12},
	}
	if porcupine.CheckOperations(counterModel, ok) != true {
		t.Fatal("legal history rejected")
	}
	stale := append(ok, porcupine.Operation{ClientId: 2, Input: hotInput{false}, Call: 13, Output: int64(0), Return: 14})
	if porcupine.CheckOperations(counterModel, stale) {
		t.Fatal("stale read after an acknowledged write accepted")
	}
}

func TestLineID(t *testing.T) {
	if id := lineID([]byte(`{"type":"purchase","id":"payback-12","member":"x"}`)); id != "payback-12" {
		t.Fatal(id)
	}
}
