package feedsink

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCursorFile: a missing file is cursor 0, a stored cursor reads back
// (replacing the one before, leaving no temp file), garbage is an error.
func TestCursorFile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string // "": no file
		want    uint64
		wantErr bool
	}{
		{name: "missing file is the feed's start", want: 0},
		{name: "a seq reads back", content: "42\n", want: 42},
		{name: "not a number is refused", content: "forty-two\n", wantErr: true},
		{name: "an empty file is refused", content: "\n", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cursor")
			if tc.content != "" {
				if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := LoadCursor(path)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("LoadCursor = %d, %v; want %d, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "cursor")
	for _, seq := range []uint64{7, 1 << 40} {
		if err := StoreCursor(path, seq); err != nil {
			t.Fatal(err)
		}
		if got, err := LoadCursor(path); err != nil || got != seq {
			t.Fatalf("after StoreCursor(%d): LoadCursor = %d, %v", seq, got, err)
		}
	}
	if names, _ := os.ReadDir(dir); len(names) != 1 {
		t.Fatalf("the cursor's directory holds %d files, want only the cursor", len(names))
	}
}
