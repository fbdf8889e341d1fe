package main

import (
	"errors"

	"github.com/accrual/accrual/apply"
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
)

// ledgerSink writes replayed entries and command records into a ledger;
// the position of a batch is the number of input lines read so far.
type ledgerSink struct {
	led     *ledger.Ledger
	records *ledger.RecordReader
}

func openLedgerSink(dir string) (*ledgerSink, error) {
	led, err := ledger.Open(dir, ledger.Options{})
	if err != nil {
		return nil, err
	}
	return &ledgerSink{led: led, records: led.NewRecordReader()}, nil
}

// step returns a store-backed apply step whose evicted command records are
// read back from the sink's ledger.
func (s *ledgerSink) step(prog *engine.Program, recordsInMemory int) *apply.Step {
	eng := engine.NewWithOptions(prog, engine.Options{StoreBacked: true})
	return apply.NewStoreBacked(eng, s.records, recordsInMemory)
}

// Append skips a position the ledger already holds: an earlier run over the
// same input stored it.
func (s *ledgerSink) Append(position uint64, step *apply.Step) error {
	return step.AppendLedger(s.led, position)
}

// Close closes the record reader before the ledger it reads.
func (s *ledgerSink) Close() error {
	return errors.Join(s.records.Close(), s.led.Close())
}
