package engine

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode: no input panics the decoder; a valid command round-trips
// through the binary form with the same payload digest.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"coalition", "club"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "conformance", name+".ndjson"))
		if err != nil {
			f.Fatal(err)
		}
		for i, line := range bytes.Split(data, []byte("\n")) {
			if i%97 == 0 {
				f.Add(line)
			}
		}
	}
	f.Add([]byte(`{"type":"purchase","id":"a\u0041","member":"m","partner":"p","amount":1e3}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var d Decoder
		var c Command
		d.Decode(line, &c)
		if c.Invalid {
			return
		}
		bin := AppendBinary(nil, &c)
		var back Command
		rest, err := DecodeBinary(bin, &back)
		if err != nil || len(rest) != 0 {
			t.Fatalf("binary round trip: %v, %d bytes left", err, len(rest))
		}
		if back.payloadHash() != c.Hash || back.AtMS != c.AtMS || back.Type != c.Type {
			t.Fatal("binary round trip changed the command")
		}
	})
}

// FuzzDecodeBinary: arbitrary bytes never panic the binary decoder.
func FuzzDecodeBinary(f *testing.F) {
	var c Command
	var d Decoder
	d.Decode([]byte(`{"type":"purchase","id":"x","member":"m","partner":"p","amount":5,"at":"2026-01-01T00:00:00Z"}`), &c)
	f.Add(AppendBinary(nil, &c))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Command
		_, _ = DecodeBinary(b, &c)
	})
}

// FuzzParseProgram: no program text panics the parser; a rejected one says
// which field (or that the document is not YAML/JSON).
func FuzzParseProgram(f *testing.F) {
	for _, name := range []string{"coalition", "cashback", "airline", "club"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "conformance", name+".program.json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("program: x\nexpiry: {mode: lot, days: 1}\npending_days: 3\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := ParseProgram(src)
		if err != nil {
			var pe *ProgramError
			if !errors.As(err, &pe) || pe.Message == "" {
				t.Fatalf("error without a message: %v", err)
			}
			return
		}
		New(p) // a valid program builds an engine
	})
}

// FuzzRestore: a corrupt snapshot fails cleanly, never panics.
func FuzzRestore(f *testing.F) {
	prog := loadProgramFile(f, filepath.Join("..", "testdata", "conformance", "club.program.json"))
	stream, err := os.ReadFile(filepath.Join("..", "testdata", "conformance", "club.ndjson"))
	if err != nil {
		f.Fatal(err)
	}
	_, eng, _ := runStream(f, prog, stream[:20000], 64)
	var snap bytes.Buffer
	if err := eng.Snapshot(&snap); err != nil {
		f.Fatal(err)
	}
	f.Add(snap.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Restore(bytes.NewReader(b))
		if err == nil {
			_ = e.Dump(func(*MemberView) error { return nil })
		}
	})
}

// FuzzLoadRecord: no stored value panics LoadRecord; a bad one fails with
// ErrBadRecord and loads nothing; one that loads encodes back to a value
// that decodes. The decoder bounds every count by the bytes left, so a
// value cannot make it allocate more than its own size.
func FuzzLoadRecord(f *testing.F) {
	prog := loadProgramFile(f, filepath.Join("..", "testdata", "conformance", "club.program.json"))
	stream, err := os.ReadFile(filepath.Join("..", "testdata", "conformance", "club.ndjson"))
	if err != nil {
		f.Fatal(err)
	}
	_, _, c, snap := storeRun(f, prog, stream[:20000], 16, true, 1)
	for id, v := range c.store {
		if len(id)%7 == 0 {
			f.Add(v, c.pos+1)
		}
	}
	e, err := Restore(bytes.NewReader(snap))
	if err != nil {
		f.Fatal(err)
	}
	id := []byte("fuzz")
	f.Fuzz(func(t *testing.T, value []byte, before uint64) {
		err := e.LoadRecord(id, value, before)
		ri, loaded := e.ids.find(idKeys{e}, id)
		if err != nil {
			if loaded || !errors.Is(err, ErrBadRecord) {
				t.Fatalf("failed load: %v, loaded %v", err, loaded)
			}
			return
		}
		if !loaded {
			return // made at or after before
		}
		var v recordValue
		if err := decodeRecordValue(e.appendRecordValue(nil, ri), &v); err != nil {
			t.Fatalf("a loaded record encodes to a value that does not decode: %v", err)
		}
		e.drop(ri)
	})
}
