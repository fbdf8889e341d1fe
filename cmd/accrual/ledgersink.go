package main

import (
	"github.com/accrual/accrual/apply"
	"github.com/accrual/accrual/ledger"
)

// ledgerSink writes replayed entries into a ledger; the position of a batch
// is the number of input lines read so far.
type ledgerSink struct {
	led *ledger.Ledger
}

func openLedgerSink(dir string) (entrySink, error) {
	led, err := ledger.Open(dir, ledger.Options{})
	if err != nil {
		return nil, err
	}
	return &ledgerSink{led: led}, nil
}

// Append skips a position the ledger already holds: an earlier run over the
// same input stored it.
func (s *ledgerSink) Append(position uint64, step *apply.Step) error {
	return step.AppendLedger(s.led, position)
}

func (s *ledgerSink) Close() error { return s.led.Close() }
