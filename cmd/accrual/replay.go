package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/accrual/accrual/apply"
	"github.com/accrual/accrual/engine"
)

const replayWriteBytes = 1 << 20

// loadProgram reads and validates a program file.
func loadProgram(path string) (*engine.Program, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := engine.ParseProgram(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

func cmdReplay(args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	programPath := fs.String("program", "", "program file (YAML or JSON)")
	dump := fs.Bool("dump", false, "after the results, print one line per member")
	dataDir := fs.String("data", "", "also write the ledger and the command records into this directory")
	recordsInMemory := fs.Int("records-in-memory", apply.DefaultRecordsInMemory,
		"with --data: command records kept in memory; older ones are read back from --data when a command names them")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *programPath == "" {
		return errors.New("replay: --program is required")
	}
	prog, err := loadProgram(*programPath)
	if err != nil {
		return err
	}
	step := apply.New(engine.New(prog))
	var sink *ledgerSink
	if *dataDir != "" {
		if sink, err = openLedgerSink(*dataDir); err != nil {
			return err
		}
		defer sink.Close()
		step = sink.step(prog, *recordsInMemory)
	}
	out := bufio.NewWriterSize(os.Stdout, replayWriteBytes)
	if err := replay(step, os.Stdin, out, sink); err != nil {
		return err
	}
	if *dump {
		if err := writeDump(step.Engine(), out); err != nil {
			return err
		}
	}
	return out.Flush()
}

// writeDump writes replay --dump's member lines.
func writeDump(eng *engine.Engine, out *bufio.Writer) error {
	var line []byte
	return eng.Dump(func(v *engine.MemberView) error {
		line = engine.AppendDumpJSON(line[:0], v)
		line = append(line, '\n')
		_, err := out.Write(line)
		return err
	})
}

// replay streams NDJSON commands through the engine in batches (decoded
// on a second goroutine while the engine applies the previous batch), so
// memory stays bounded whatever the input size (members and ids aside). The
// ledger position of a batch is the number of commands read so far, so a
// rerun over the same input appends nothing twice. Without a sink the
// step's engine keeps every command record in memory.
func replay(step *apply.Step, in io.Reader, out *bufio.Writer, sink *ledgerSink) error {
	var (
		buf  []byte
		read uint64
	)
	return apply.ReadBatches(in, func(cmds []engine.Command) error {
		if _, _, err := step.ApplyAt(read+uint64(len(cmds)), cmds); err != nil {
			return err
		}
		buf = step.AppendNDJSON(buf[:0])
		if _, err := out.Write(buf); err != nil {
			return err
		}
		read += uint64(len(cmds))
		if sink != nil {
			return sink.Append(read, step)
		}
		return nil
	})
}
