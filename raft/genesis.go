package raft

// The program of record. Every replica must apply the same commands under
// the same rules, so the program is part of the replicated state from the
// first entry on: bootstrap writes the starting program into the log right
// after hraft's configuration entry, and each replica's state machine
// replaces its engine with one for that program when it applies it. Later
// changes travel as program entries (PUT /v1/program), and snapshots carry
// the program in force inside the engine's stream. Config.Program thus only
// seeds the engine of a bootstrapping node; a joining node runs whatever
// program the log or the leader's snapshot gives it, whatever its own
// Config.Program says.

import (
	"fmt"
	"time"

	"github.com/accrual/accrual/engine"
	hraft "github.com/hashicorp/raft"
)

// genesisIndex is the index of the genesis entry: hraft's bootstrap writes
// the configuration at 1, nothing is proposed before the first election.
const genesisIndex = 2

// writeGenesis appends the genesis entry to a log just bootstrapped, in the
// bootstrap's term 1. The first leader's no-op commits it.
func writeGenesis(logs hraft.LogStore, src []byte) error {
	data := append([]byte{entryGenesis}, src...)
	err := logs.StoreLog(&hraft.Log{Index: genesisIndex, Term: 1, Type: hraft.LogCommand, Data: data, AppendedAt: time.Now()})
	if err != nil {
		return fmt.Errorf("raft: write the program of record: %w", err)
	}
	return nil
}

// applyGenesis starts the engine over on the program of record (f.mu
// held). Only the entry at genesisIndex counts: there the engine has
// applied nothing yet, on every replica.
func (f *fsm) applyGenesis(index uint64, src []byte) error {
	if index != genesisIndex {
		return fmt.Errorf("raft: a genesis entry at index %d, not %d", index, genesisIndex)
	}
	p, err := engine.ParseProgram(src)
	if err != nil {
		return err
	}
	f.eng = newEngine(p)
	f.step.SetEngine(f.eng)
	return nil
}
