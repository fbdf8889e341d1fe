package chaos

import (
	"pgregory.net/rapid"
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

// TestCheckCounter: the exact counter check accepts a linearizable history
// and rejects a stale read, a read from the future and writes out of order.
func TestCheckCounter(t *testing.T) {
	w := func(c, call, ret, out int64) porcupine.Operation {
		return porcupine.Operation{ClientId: int(c), Input: hotInput{true}, Call: call, Return: ret, Output: out}
	}
	r := func(c, call, ret, out int64) porcupine.Operation {
		return porcupine.Operation{ClientId: int(c), Input: hotInput{false}, Call: call, Return: ret, Output: out}
	}
	ok := []porcupine.Operation{w(0, 0, 10, 1), w(1, 5, 20, 2), r(2, 6, 8, 1), r(3, 9, 25, 2), r(4, 1, 3, 0)}
	if err := checkCounter(ok); err != nil {
		t.Fatalf("linearizable history rejected: %v", err)
	}
	if !porcupine.CheckOperations(counterModel, ok) {
		t.Fatal("porcupine disagrees on the linearizable history")
	}
	bad := map[string][]porcupine.Operation{
		"stale read":       append(ok[:2:2], r(2, 21, 22, 1)),
		"read from future": append(ok[:2:2], r(2, 0, 1, 2)),
		"writes reordered": {w(0, 0, 1, 2), w(1, 2, 3, 1)},
		"lost write":       {w(0, 0, 1, 1), w(1, 2, 3, 3)},
	}
	for name, h := range bad {
		if err := checkCounter(h); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if porcupine.CheckOperations(counterModel, h) {
			t.Errorf("%s: porcupine accepts it, the cases are wrong", name)
		}
	}
}

// TestCheckCounterAgreesWithPorcupine: on random small histories the exact
// check and porcupine's search give the same verdict.
func TestCheckCounterAgreesWithPorcupine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nw := rapid.IntRange(0, 4).Draw(t, "writes")
		nr := rapid.IntRange(0, 4).Draw(t, "reads")
		var ops []porcupine.Operation
		perm := rapid.Permutation(func() []int64 {
			v := make([]int64, nw)
			for i := range v {
				v[i] = int64(i + 1)
			}
			return v
		}()).Draw(t, "outputs")
		// Calls at even times, returns at odd ones: no two events tie (as
		// with the harness's nanosecond clock), which porcupine and the exact
		// check might order differently.
		for i := 0; i < nw; i++ {
			call := 2 * rapid.Int64Range(0, 10).Draw(t, "wcall")
			ops = append(ops, porcupine.Operation{ClientId: i, Input: hotInput{true}, Call: call,
				Return: call + 2*rapid.Int64Range(1, 5).Draw(t, "wlen") - 1, Output: perm[i]})
		}
		for i := 0; i < nr; i++ {
			call := 2 * rapid.Int64Range(0, 10).Draw(t, "rcall")
			ops = append(ops, porcupine.Operation{ClientId: nw + i, Input: hotInput{false}, Call: call,
				Return: call + 2*rapid.Int64Range(1, 5).Draw(t, "rlen") - 1, Output: rapid.Int64Range(0, int64(nw)).Draw(t, "rout")})
		}
		exact := checkCounter(ops) == nil
		if search := porcupine.CheckOperations(counterModel, ops); exact != search {
			t.Fatalf("exact check says %v, porcupine %v: %+v", exact, search, ops)
		}
	})
}
