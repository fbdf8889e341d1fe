package main

import (
	"testing"

	"github.com/accrual/accrual/raft"
)

// --scrub-mb-per-s sets the node's scrub rate; 0 turns the scrub off.
func TestServeScrubFlagSetsTheRate(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want int64 // raft.Config.ScrubBytesPerS
	}{
		{"the default", nil, raft.DefaultScrubBytesPerS},
		{"16 MiB/s", []string{"--scrub-mb-per-s", "16"}, 16 << 20},
		{"0: off", []string{"--scrub-mb-per-s", "0"}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parseServeFlags(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := f.nodeConfig(nil, nil)
			if err != nil || cfg.ScrubBytesPerS != tc.want {
				t.Fatalf("ScrubBytesPerS %d (%v), want %d", cfg.ScrubBytesPerS, err, tc.want)
			}
		})
	}
}
