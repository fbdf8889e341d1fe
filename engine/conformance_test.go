package engine

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// fataler is what both *testing.T and *rapid.T offer.
type fataler interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// runStream replays an NDJSON stream through the engine the way
// `accrual replay --dump` does and returns the output lines.
func runStream(t fataler, prog *Program, stream []byte, batch int) (lines [][]byte, eng *Engine, entries []Entry) {
	eng = New(prog)
	lines, entries = replayStream(t, eng, eng.Apply, stream, batch)
	return lines, eng, entries
}

// applyFunc is Engine.Apply, or a caller's step around it.
type applyFunc func(cmds []Command, results []Result, entries []Entry) ([]Result, []Entry)

// replayStream applies a stream to eng through apply in batches, and
// returns the result lines, then the dump, and the ledger entries.
func replayStream(t fataler, eng *Engine, apply applyFunc, stream []byte, batch int) (lines [][]byte, entries []Entry) {
	var (
		dec  Decoder
		cmds []Command
		res  []Result
	)
	flush := func() {
		if len(cmds) == 0 {
			return
		}
		res, entries = apply(cmds, res[:0], entries)
		for i := range res {
			lines = append(lines, eng.AppendJSON(nil, &res[i]))
		}
		cmds = cmds[:0]
		dec.Reset()
	}
	for _, line := range bytes.Split(stream, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		cmds = append(cmds, Command{})
		dec.Decode(append([]byte(nil), line...), &cmds[len(cmds)-1])
		if len(cmds) == batch {
			flush()
		}
	}
	flush()
	if err := eng.Dump(func(v *MemberView) error {
		lines = append(lines, AppendDumpJSON(nil, v))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return lines, entries
}

func loadProgramFile(t fataler, path string) *Program {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseProgram(src)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// conformanceVectors are SPEC's published vectors: §1–8, §9 (club) and
// §10 (retail).
var conformanceVectors = []string{"coalition", "cashback", "airline", "club", "retail"}

// TestConformanceVectors checks SPEC's published vectors (shared/conformance,
// copied to testdata/conformance) line by line, compared as JSON values.
func TestConformanceVectors(t *testing.T) {
	for _, name := range conformanceVectors {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "testdata", "conformance")
			prog := loadProgramFile(t, filepath.Join(dir, name+".program.json"))
			stream, err := os.ReadFile(filepath.Join(dir, name+".ndjson"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(dir, name+".expected.ndjson"))
			if err != nil {
				t.Fatal(err)
			}
			for _, batch := range []int{1, 7, 4096} {
				got, _, _ := runStream(t, prog, stream, batch)
				compareJSONLines(t, got, want)
			}
		})
	}
}

func compareJSONLines(t *testing.T, got [][]byte, want []byte) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(want))
	sc.Buffer(nil, 1<<20)
	i := 0
	bad := 0
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if i >= len(got) {
			t.Fatalf("output ends at line %d; want more", i+1)
		}
		var a, b any
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got[i], &b); err != nil {
			t.Fatalf("line %d: output is not JSON: %s", i+1, got[i])
		}
		if !reflect.DeepEqual(a, b) {
			bad++
			if bad <= 5 {
				t.Errorf("line %d:\n want %s\n got  %s", i+1, sc.Bytes(), got[i])
			}
		}
		i++
	}
	if i != len(got) {
		t.Errorf("output has %d lines, want %d", len(got), i)
	}
}
