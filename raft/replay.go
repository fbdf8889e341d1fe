package raft

import (
	"iter"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
)

// replayBatch is how many logs an offline replay applies per ApplyBatch
// (the engine's state does not depend on how logs are batched).
const replayBatch = 64

// ReplayLogs applies logs, in order, to a fresh state machine running
// prog, offline, with its ledger in ledgerDir, and returns the engine's
// state hash after the last one: comparable with Node.StateHashAt at that
// log's index. It stops at the first failure of the state machine (the
// ledger's). Chaos checks replay the committed log this way
// (raft/faultinject.ReplayJournals).
func ReplayLogs(prog *engine.Program, ledgerDir string, logs iter.Seq[*hraft.Log]) (stateHash uint64, err error) {
	led, err := ledger.Open(ledgerDir, ledger.Options{})
	if err != nil {
		return 0, err
	}
	defer led.Close()
	f := newFSM(prog, led, hclog.NewNullLogger(), func() bool { return false }, 0)
	defer f.close()
	batch := make([]*hraft.Log, 0, replayBatch)
	for l := range logs {
		batch = append(batch, l)
		if len(batch) == replayBatch {
			f.ApplyBatch(batch)
			batch = batch[:0]
		}
		if e := f.fatal.Load(); e != nil {
			return 0, *e
		}
	}
	if len(batch) > 0 {
		f.ApplyBatch(batch)
	}
	if e := f.fatal.Load(); e != nil {
		return 0, *e
	}
	return f.stateHash(), nil
}
