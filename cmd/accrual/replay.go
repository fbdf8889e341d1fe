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
	dataDir := fs.String("data", "", "also write the ledger into this directory")
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
	eng := engine.New(prog)
	var sink entrySink
	if *dataDir != "" {
		if sink, err = openLedgerSink(*dataDir); err != nil {
			return err
		}
		defer sink.Close()
	}
	out := bufio.NewWriterSize(os.Stdout, replayWriteBytes)
	if err := replay(eng, os.Stdin, out, sink); err != nil {
		return err
	}
	if *dump {
		var line []byte
		err := eng.Dump(func(v *engine.MemberView) error {
			line = engine.AppendDumpJSON(line[:0], v)
			line = append(line, '\n')
			_, err := out.Write(line)
			return err
		})
		if err != nil {
			return err
		}
	}
	return out.Flush()
}

// entrySink receives the ledger entries of each replayed batch: those of
// the step's last Apply.
type entrySink interface {
	Append(position uint64, step *apply.Step) error
	Close() error
}

// replay streams NDJSON commands through the engine in batches (decoded
// on a second goroutine while the engine applies the previous batch), so
// memory stays bounded whatever the input size (members and ids aside). The
// ledger position of a batch is the number of commands read so far, so a
// rerun over the same input appends nothing twice.
func replay(eng *engine.Engine, in io.Reader, out *bufio.Writer, sink entrySink) error {
	var (
		step = apply.New(eng)
		buf  []byte
		read uint64
	)
	return apply.ReadBatches(in, func(cmds []engine.Command) error {
		step.Apply(cmds)
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
