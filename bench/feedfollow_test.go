package bench

import (
	"strings"
	"testing"
)

func TestLineSeqReadsTheCursorOfAFeedLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		seq  uint64
		ok   bool
	}{
		{`{"seq":1,"at":"2026-01-01T00:00:00Z","kind":"earn"}` + "\n", 1, true},
		{`{"seq":18446744073709551615,"points":5}`, 18446744073709551615, true},
		{"\n", 0, false},                     // a heartbeat
		{`{"error":{"code":"x"}}`, 0, false}, // an error line has no seq
		{`{"seq":}`, 0, false},
	} {
		seq, ok := lineSeq([]byte(tc.line))
		if seq != tc.seq || ok != tc.ok {
			t.Errorf("lineSeq(%q) = %d, %v; want %d, %v", tc.line, seq, ok, tc.seq, tc.ok)
		}
	}
}

func TestCountResultsCountsLinesAndErrors(t *testing.T) {
	for _, tc := range []struct {
		name        string
		body        string
		lines, errs int64
	}{
		{"empty", "", 0, 0},
		{"ok and error", `{"id":"a","status":"ok"}` + "\n" + `{"id":"b","status":"error","error":"invalid"}` + "\n", 2, 1},
		{"no final newline", `{"id":"a","status":"ok"}` + "\n" + `{"id":"b","status":"ok"}`, 2, 0},
		{"blank lines skipped", "\n\n" + `{"status":"error"}` + "\n\n", 1, 1},
	} {
		lines, errs, err := countResults(strings.NewReader(tc.body))
		if err != nil || lines != tc.lines || errs != tc.errs {
			t.Errorf("%s: %d lines, %d errors, %v; want %d, %d", tc.name, lines, errs, err, tc.lines, tc.errs)
		}
	}
}
