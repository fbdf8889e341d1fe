package engine

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestOldSnapshotVersionsStillRestore: keep-all snapshots written by older
// engines after the first 300 lines of the club stream restore, and the
// rest of the stream then gives what a run from the start gives: version 2
// (before SPEC §10) and version 6 (the last with the tick queue's items,
// which Restore now rebuilds from the members).
func TestOldSnapshotVersionsStillRestore(t *testing.T) {
	for _, c := range []struct {
		file    string
		version byte
	}{{"club-v2.snap", snapshotVersionV2}, {"club-v6.snap", snapshotVersionV6}} {
		t.Run(c.file, func(t *testing.T) { checkOldSnapshot(t, c.file, c.version) })
	}
}

func checkOldSnapshot(t *testing.T, file string, version byte) {
	dir := filepath.Join("..", "testdata")
	snap, err := os.ReadFile(filepath.Join(dir, "snapshots", file))
	if err != nil {
		t.Fatal(err)
	}
	if snap[len(snapshotMagic)] != version {
		t.Fatalf("fixture is version %d, want %d", snap[len(snapshotMagic)], version)
	}
	stream, err := os.ReadFile(filepath.Join(dir, "conformance", "club.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	for _, l := range bytes.Split(stream, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			lines = append(lines, l)
		}
	}
	prog := loadProgramFile(t, filepath.Join(dir, "conformance", "club.program.json"))
	want, _, _ := runStream(t, prog, stream, 1)
	eng, err := Restore(bytes.NewReader(snap))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := replayStream(t, eng, eng.Apply, bytes.Join(lines[300:], []byte("\n")), 1)
	if !reflect.DeepEqual(got, want[300:]) {
		t.Fatal("the restored engine's results or dump differ from a run from the start")
	}
	if again := snapshotBytes(t, eng); again[len(snapshotMagic)] != snapshotVersion {
		t.Fatalf("a restored engine writes version %d, want %d", again[len(snapshotMagic)], snapshotVersion)
	}
}
