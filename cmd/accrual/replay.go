package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/accrual/accrual/engine"
)

const (
	replayBatch      = 4096
	maxLineBytes     = 1 << 20
	replayWriteBytes = 1 << 20
)

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
		if sink, err = openLedgerSink(*dataDir, eng); err != nil {
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

// entrySink receives the ledger entries of each replayed batch.
type entrySink interface {
	Append(position uint64, entries []engine.Entry) error
	Close() error
}

// replay streams NDJSON commands through the engine in batches, so memory
// stays bounded whatever the input size (members aside).
func replay(eng *engine.Engine, in io.Reader, out *bufio.Writer, sink entrySink) error {
	r := bufio.NewReaderSize(in, 1<<20)
	var (
		dec     engine.Decoder
		cmds    = make([]engine.Command, 0, replayBatch)
		results = make([]engine.Result, 0, replayBatch)
		entries = make([]engine.Entry, 0, 4*replayBatch)
		lines   = make([]byte, 0, 1<<20)
		buf     []byte
		lineNo  uint64
	)
	flush := func() error {
		results, entries = eng.Apply(cmds, results[:0], entries[:0])
		for i := range results {
			buf = eng.AppendJSON(buf[:0], &results[i])
			buf = append(buf, '\n')
			if _, err := out.Write(buf); err != nil {
				return err
			}
		}
		if sink != nil && len(cmds) > 0 {
			if err := sink.Append(lineNo, entries); err != nil {
				return err
			}
		}
		cmds = cmds[:0]
		lines = lines[:0]
		dec.Reset()
		return nil
	}
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// An over-long line: gather it whole, then judge it like any other.
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = r.ReadSlice('\n')
				if len(long) < maxLineBytes {
					long = append(long, line...)
				}
			}
			line = long
		}
		if len(line) > 0 {
			lineNo++
			trimmed := bytes.TrimSpace(line)
			if len(trimmed) > 0 {
				// Copy: the reader reuses its buffer, the batch must outlive it.
				off := len(lines)
				if cap(lines)-off < len(trimmed) {
					if err := flush(); err != nil {
						return err
					}
					off = 0
					if cap(lines) < len(trimmed) {
						lines = make([]byte, 0, len(trimmed))
					}
				}
				lines = append(lines, trimmed...)
				cmds = append(cmds, engine.Command{})
				dec.Decode(lines[off:off+len(trimmed)], &cmds[len(cmds)-1])
				if len(cmds) == replayBatch {
					if err := flush(); err != nil {
						return err
					}
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	return flush()
}
