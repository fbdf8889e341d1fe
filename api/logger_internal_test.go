package api

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestFasthttpLoggerRateLimited: a burst of fasthttp warnings (one per
// broken connection under a flood) writes one line, and the next line
// after a second reports how many were dropped.
func TestFasthttpLoggerRateLimited(t *testing.T) {
	var buf bytes.Buffer
	f := &fasthttpLogger{l: slog.New(slog.NewTextHandler(&buf, nil))}
	for i := range 100 {
		f.Printf("error when serving connection %d", i)
	}
	if n := strings.Count(buf.String(), "\n"); n != 1 {
		t.Fatalf("%d lines for a burst of 100, want 1:\n%s", n, buf.String())
	}
	f.lastNS.Add(-2e9) // as if the line was written two seconds ago
	f.Printf("later")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "later") || !strings.Contains(lines[1], "suppressed=99") {
		t.Fatalf("after a second: %q, want the line with suppressed=99", lines)
	}
}
