package main

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"syscall"

	"github.com/accrual/accrual/ledger"
)

// cmdVerify checks a ledger directory: the hash chain, that entries balance,
// and that stored balances equal the sums of their entries.
func cmdVerify(args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	dataDir := fs.String("data", "", "data directory (of replay --data or of a node)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dataDir == "" {
		return errors.New("verify: --data is required")
	}
	dir := *dataDir
	// A node keeps its ledger in DATA/ledger; replay --data writes DATA itself.
	if m, _ := filepath.Glob(filepath.Join(dir, "ledger", "*")); len(m) > 0 {
		dir = filepath.Join(dir, "ledger")
	}
	sum, err := ledger.VerifyDir(dir)
	if isLocked(err) {
		return fmt.Errorf("verify: %s is in use: a running node holds its ledger locked; stop the node (verify reads a ledger no process writes), "+
			"or verify a copy of its data directory taken while it was stopped (%w)", *dataDir, err)
	}
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	fmt.Printf("verify: ok: %d batches, %d entries, %d accounts (%d members, %d partners), position %d, last seq %d, digest %016x\n",
		sum.Batches, sum.Entries, sum.Accounts, sum.Members, sum.Partners, sum.Position, sum.LastSeq, sum.Digest)
	return nil
}

// isLocked: Pebble could not take the ledger's LOCK file, another process
// (a running node) holds it. fcntl answers EAGAIN or EACCES.
func isLocked(err error) bool {
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES)
}
