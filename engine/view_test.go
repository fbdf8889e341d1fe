package engine

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestFiguresAreTheView: after every batch of every conformance stream,
// each member's figures read under the program give exactly View, and
// the clock they change at is the end of the plan they show (after the
// clock), or never when they show none.
func TestFiguresAreTheView(t *testing.T) {
	for _, name := range conformanceVectors {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "testdata", "conformance")
			prog := loadProgramFile(t, filepath.Join(dir, name+".program.json"))
			stream, err := os.ReadFile(filepath.Join(dir, name+".ndjson"))
			if err != nil {
				t.Fatal(err)
			}
			eng := New(prog)
			checked := 0
			apply := func(cmds []Command, res []Result, ents []Entry) ([]Result, []Entry) {
				res, ents = eng.Apply(cmds, res, ents)
				for mi := range int32(eng.Members()) {
					f, id, at := eng.Figures(mi)
					got, want := f.MemberView(id, eng.Program()), eng.View(mi, false)
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("member %d at %d: figures give %+v, View %+v", mi, eng.ClockMS(), got, want)
					}
					if (want.Plan != "") != (at != neverMS) || at != neverMS && at <= eng.ClockMS() {
						t.Fatalf("member %d at %d: plan %q changes at %d", mi, eng.ClockMS(), want.Plan, at)
					}
					checked++
				}
				return res, ents
			}
			replayStream(t, eng, apply, stream, 7)
			if checked == 0 {
				t.Fatal("no member checked")
			}
		})
	}
}
