package workload

import (
	"bytes"
	"encoding/json"
	"runtime"
	"testing"
	"time"
)

// lastAt is the `at` of the last command of the stream, in Unix ms.
func lastAt(t *testing.T, cfg Config, count int) int64 {
	t.Helper()
	s := bytes.TrimSuffix(stream(t, cfg, count), []byte("\n"))
	var c struct {
		At string `json:"at"`
	}
	if err := json.Unmarshal(s[bytes.LastIndexByte(s, '\n')+1:], &c); err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(time.RFC3339Nano, c.At)
	if err != nil {
		t.Fatal(err)
	}
	return at.UnixMilli()
}

// TestCommandsPerDaySetsTheSimulatedSpan: a stream of count commands
// spans count / CommandsPerDay days, so a small population can run at a
// member's real rate for years (PAYBACK: ~51 commands a member a year).
func TestCommandsPerDaySetsTheSimulatedSpan(t *testing.T) {
	const count = 60_000 // the last command is a tick, sent at its nominal time
	for _, tc := range []struct {
		name           string
		commandsPerDay int64
		wantDays       float64
	}{
		{"the profile's 5M a day: 17 minutes", 0, (count - 1) / 5_000_000.0},
		{"20k members at 51 a year: 21 days", 2_800, (count - 1) / 2_800.0},
		{"a tenth of that rate: 214 days", 280, (count - 1) / 280.0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Profile: Payback, Seed: 1, Members: 20_000, CommandsPerDay: tc.commandsPerDay}
			days := float64(lastAt(t, cfg, count)-Start2026) / msPerDay
			if d := days - tc.wantDays; d < -0.001 || d > 0.001 {
				t.Fatalf("the stream spans %.4f days, want %.4f", days, tc.wantDays)
			}
		})
	}
}

// TestGeneratorMemoryDoesNotGrowWithMembers: a generator for 20M members
// costs about what one for 20k does (the Zipf table grows with the log of
// the population, the rings are fixed), so a 200M-command run over 20M
// members adds no overhead of its own.
func TestGeneratorMemoryDoesNotGrowWithMembers(t *testing.T) {
	alloc := func(members int) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		g := gen(t, Config{Profile: Payback, Seed: 1, Members: members})
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(g)
		return after.TotalAlloc - before.TotalAlloc
	}
	small, big := alloc(20_000), alloc(20_000_000)
	if big > small+(1<<20) || big > 8<<20 {
		t.Fatalf("a generator allocates %d B for 20k members, %d B for 20M", small, big)
	}
}
