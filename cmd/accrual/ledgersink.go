package main

import (
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
)

// ledgerSink writes replayed entries into a ledger; the position of a batch
// is the number of input lines read so far.
type ledgerSink struct {
	led *ledger.Ledger
	eng *engine.Engine
	buf []ledger.Entry
}

func openLedgerSink(dir string, eng *engine.Engine) (entrySink, error) {
	led, err := ledger.Open(dir, ledger.Options{})
	if err != nil {
		return nil, err
	}
	return &ledgerSink{led: led, eng: eng}, nil
}

func (s *ledgerSink) Append(position uint64, entries []engine.Entry) error {
	if position <= s.led.Position() {
		return nil // already stored by an earlier run over the same input
	}
	s.buf = s.buf[:0]
	for i := range entries {
		e := &entries[i]
		s.buf = append(s.buf, ledger.Entry{
			AtMS: e.AtMS, CommandID: e.CommandID, Kind: ledger.Kind(e.Kind), Points: e.Points,
			Debit:  ledger.Account{Kind: ledger.AccountKind(e.Debit.Kind), Owner: s.eng.AccountOwner(e.Debit)},
			Credit: ledger.Account{Kind: ledger.AccountKind(e.Credit.Kind), Owner: s.eng.AccountOwner(e.Credit)},
		})
	}
	return s.led.Append(position, s.buf)
}

func (s *ledgerSink) Close() error { return s.led.Close() }
