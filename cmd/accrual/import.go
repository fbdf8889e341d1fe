package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/accrual/accrual/apply"
	"github.com/accrual/accrual/raft"
)

// cmdImport builds a node's data directory from a history applied with
// the commands' own times: a live leader's tick moves the clock to the
// present, so history cannot go through a running cluster. The commands
// go through replay's code (results, ledger and command records exactly as
// `accrual replay --data` writes them), then the engine's state becomes the
// directory's Raft snapshot at the history's position (raft/seed.go), and
// `accrual serve --data DIR` with the same --node-id and --raft-addr starts
// a cluster from it that others join.
func cmdImport(args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	programPath := fs.String("program", "", "program file (YAML or JSON)")
	dataDir := fs.String("data", "", "the data directory to build (must be empty or absent)")
	nodeID := fs.String("node-id", "node1", "the id the node will be served with (serve --node-id)")
	raftAddr := fs.String("raft-addr", "127.0.0.1:7000", "the Raft address the node will be served with (serve --raft-addr)")
	dump := fs.Bool("dump", false, "after the results, print one line per member (as replay --dump)")
	recordsInMemory := fs.Int("records-in-memory", apply.DefaultRecordsInMemory, "command records kept in memory while importing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *programPath == "" || *dataDir == "" {
		return errors.New("import: --program and --data are required")
	}
	if err := requireEmptyDir(*dataDir); err != nil {
		return err
	}
	prog, err := loadProgram(*programPath)
	if err != nil {
		return err
	}
	sink, err := openLedgerSink(filepath.Join(*dataDir, "ledger"))
	if err != nil {
		return err
	}
	defer sink.Close()
	step := sink.step(prog, *recordsInMemory)
	out := bufio.NewWriterSize(os.Stdout, replayWriteBytes)
	if err := replay(step, os.Stdin, out, sink); err != nil {
		return err
	}
	if *dump {
		if err := writeDump(step.Engine(), out); err != nil {
			return err
		}
	}
	if err := out.Flush(); err != nil {
		return err
	}
	self := raft.SeedNode{ID: *nodeID, RaftAddr: *raftAddr}
	if err := raft.SeedDataDir(*dataDir, self, sink.led, step.Engine(), max(sink.led.Position(), 1)); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(*dataDir, "program.yaml"), prog.Source, 0o600)
}

// requireEmptyDir refuses a data directory that holds anything: an import
// or a restore never writes over a node's data.
func requireEmptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("%s is not empty: give a new data directory (nothing is written over a node's data)", dir)
	}
	return nil
}
