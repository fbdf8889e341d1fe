package main

import (
	"errors"

	"github.com/accrual/accrual/engine"
)

func openLedgerSink(dir string, eng *engine.Engine) (entrySink, error) {
	return nil, errors.New("replay: --data needs the ledger package")
}
