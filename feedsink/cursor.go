package feedsink

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LoadCursor reads the cursor stored at path: the seq of the last change
// whose record the broker acknowledged. A missing file is cursor 0 (the
// feed from its first change).
func LoadCursor(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("feedsink: reading the cursor file: %w", err)
	}
	seq, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("feedsink: cursor file %s must hold one seq (a decimal number): %w", path, err)
	}
	return seq, nil
}

// StoreCursor replaces the cursor at path with seq so that a crash at any
// moment leaves either the old cursor or the new one, whole: the seq goes
// to a temp file in the same directory, which is synced, renamed over path,
// and the directory synced so the rename itself survives a power loss.
func StoreCursor(path string, seq uint64) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("feedsink: storing the cursor: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.WriteString(strconv.FormatUint(seq, 10) + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("feedsink: storing the cursor: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("feedsink: syncing the cursor: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("feedsink: storing the cursor: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("feedsink: storing the cursor: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("feedsink: syncing the cursor's directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("feedsink: syncing the cursor's directory: %w", err)
	}
	return nil
}
