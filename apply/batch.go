package apply

import (
	"bufio"
	"bytes"
	"errors"
	"io"

	"github.com/accrual/accrual/engine"
)

// BatchSize is the number of commands per batch of ReadBatches (as replay).
const BatchSize = 4096

const maxLineBytes = 1 << 20

// batch is one decoded batch; its commands point into lines and the
// decoder's scratch.
type batch struct {
	dec   engine.Decoder
	cmds  []engine.Command
	lines []byte
}

// ReadBatches decodes NDJSON commands from in (blank lines skipped, like
// replay) in batches of up to BatchSize and calls fn for each, in order. A
// goroutine reads and decodes the next batch while fn runs. The commands are
// valid until fn returns.
func ReadBatches(in io.Reader, fn func(cmds []engine.Command) error) error {
	const ring = 3
	free := make(chan *batch, ring)
	for range ring {
		free <- &batch{cmds: make([]engine.Command, 0, BatchSize), lines: make([]byte, 0, 1<<20)}
	}
	full := make(chan *batch, ring)
	done := make(chan struct{})
	var readErr error
	go func() {
		defer close(full)
		readErr = readInto(in, free, full, done)
	}()
	var err error
	for b := range full {
		if err == nil {
			err = fn(b.cmds)
			if err != nil {
				close(done)
			}
		}
		free <- b
	}
	if err != nil {
		return err
	}
	return readErr
}

func readInto(in io.Reader, free <-chan *batch, full chan<- *batch, done <-chan struct{}) error {
	r := bufio.NewReaderSize(in, 1<<20)
	var b *batch
	get := func() bool {
		select {
		case b = <-free:
			b.cmds, b.lines = b.cmds[:0], b.lines[:0]
			b.dec.Reset()
			return true
		case <-done:
			return false
		}
	}
	send := func() bool {
		if len(b.cmds) == 0 {
			return true
		}
		select {
		case full <- b:
		case <-done:
			return false
		}
		return get()
	}
	if !get() {
		return nil
	}
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = r.ReadSlice('\n')
				if len(long) < maxLineBytes {
					long = append(long, line...)
				}
			}
			line = long
		}
		if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 {
			off := len(b.lines)
			if cap(b.lines)-off < len(trimmed) {
				if !send() {
					return nil
				}
				off = 0
				if cap(b.lines) < len(trimmed) {
					b.lines = make([]byte, 0, len(trimmed))
				}
			}
			b.lines = append(b.lines, trimmed...)
			b.cmds = append(b.cmds, engine.Command{})
			b.dec.Decode(b.lines[off:off+len(trimmed)], &b.cmds[len(b.cmds)-1])
			if len(b.cmds) == BatchSize && !send() {
				return nil
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	send()
	return nil
}
