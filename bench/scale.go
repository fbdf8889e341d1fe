package bench

import (
	"io/fs"
	"path/filepath"
	"runtime"
)

// YearCommands is the yearly command volume the scale run extrapolates to.
const YearCommands = 1_800_000_000

// YearMembers is the population the steady-state extrapolation scales to:
// PAYBACK Germany's active members.
const YearMembers = 35_000_000

// ScaleReport is the outcome of `accrual bench scale`.
type ScaleReport struct {
	Commands          int64   `json:"commands"`
	ElapsedS          float64 `json:"elapsed_s"`
	CommandsPerS      float64 `json:"commands_per_s"`
	Members           int     `json:"members"`
	HeapInuseBytes    uint64  `json:"heap_inuse_bytes"`
	BytesPerMember    float64 `json:"heap_bytes_per_member"`
	BytesPerCommand   float64 `json:"heap_bytes_per_command"`
	LedgerEntries     uint64  `json:"ledger_entries"`
	DiskBytes         int64   `json:"disk_bytes"`
	DiskBytesPerEntry float64 `json:"disk_bytes_per_entry"`
	EntriesPerCommand float64 `json:"entries_per_command"`
	YearCommands      int64   `json:"year_commands"`
	YearHours         float64 `json:"year_replay_hours"`
	// HeapGrowthPerCommand is the live heap's growth per command over the
	// run's second half (from the samples): what a longer run adds, once
	// the population and the resident window of command records are full.
	HeapGrowthPerCommand float64 `json:"heap_growth_per_command_second_half"`
	YearHeapGB           float64 `json:"year_heap_gb"` // the heap now plus the second half's growth to a year
	YearDiskGB           float64 `json:"year_disk_gb"`
	YearAvgRatePerS      float64 `json:"year_average_rate_per_s"` // what a year needs on average
	HeadroomVsYearAvg    float64 `json:"headroom_vs_year_average"`
	// The steady state (SetSteadyState). Once a run's simulated time
	// passes the lots' lifetime, expired lots are dropped and the heap
	// stops growing with commands: it then scales with members × (a
	// member + its live lots), which is what the per-member figures say.
	CommandsPerDay    int64   `json:"commands_per_day"`
	SimulatedDays     float64 `json:"simulated_days"`
	BaseHeapBytes     uint64  `json:"heap_base_bytes"`                 // before the first command, after a GC
	SteadyPerMember   float64 `json:"heap_bytes_per_member_over_base"` // (heap at end - base) / members
	ResidentRecords   int     `json:"resident_records"`                // command records in memory at the end
	LiveLots          int64   `json:"live_lots"`
	LotsPerMember     float64 `json:"live_lots_per_member"`
	YearMembers       int64   `json:"year_members"`
	YearMembersHeapGB float64 `json:"year_members_heap_gb"` // base + YearMembers × the bytes per member over base
	Validation        string  `json:"note"`
}

// SetSteadyState adds the figures a steady-state reading needs: the
// simulated span at commandsPerDay, the heap per member over the run's
// base (the program, ledger and empty engine), the live lots, and the
// heap of YearMembers members at that size. The bytes per member include
// the resident window of command records, a fixed amount: with few
// members they overstate a member's share.
func (s *ScaleReport) SetSteadyState(commandsPerDay int64, baseHeap uint64, liveLots int64) {
	s.CommandsPerDay, s.BaseHeapBytes, s.LiveLots, s.YearMembers = commandsPerDay, baseHeap, liveLots, YearMembers
	if commandsPerDay > 0 {
		s.SimulatedDays = float64(s.Commands) / float64(commandsPerDay)
	}
	if s.Members > 0 {
		over := float64(s.HeapInuseBytes) - float64(baseHeap)
		s.SteadyPerMember = max(over, 0) / float64(s.Members)
		s.LotsPerMember = float64(liveLots) / float64(s.Members)
	}
	s.YearMembersHeapGB = (float64(baseHeap) + s.SteadyPerMember*YearMembers) / (1 << 30)
}

// DirSize is the total size of the regular files under dir.
func DirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// Scale computes the scale figures of a finished replay run; dataDir is the
// ledger's directory (after Close, so the WAL is flushed).
func Scale(o *Outcome, t *EngineTarget, entries uint64, dataDir string, samples []ScaleSample) ScaleReport {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := ScaleReport{Commands: o.Totals.Commands, ElapsedS: o.Elapsed.Seconds(), Members: t.Engine().Members(),
		ResidentRecords: t.Engine().Resident(),
		HeapInuseBytes:  ms.HeapInuse, LedgerEntries: entries, DiskBytes: DirSize(dataDir), YearCommands: YearCommands,
		Validation: "heap is measured after a GC with the engine live; the year's heap adds the second half's growth per command, its disk scales linearly with entries"}
	if s.ElapsedS > 0 {
		s.CommandsPerS = float64(s.Commands) / s.ElapsedS
	}
	if s.Members > 0 {
		s.BytesPerMember = float64(s.HeapInuseBytes) / float64(s.Members)
	}
	if s.Commands > 0 {
		s.BytesPerCommand = float64(s.HeapInuseBytes) / float64(s.Commands)
		s.EntriesPerCommand = float64(entries) / float64(s.Commands)
		s.HeapGrowthPerCommand = secondHalfGrowth(samples)
		s.YearHeapGB = (float64(s.HeapInuseBytes) + s.HeapGrowthPerCommand*float64(YearCommands-s.Commands)) / (1 << 30)
	}
	if entries > 0 {
		s.DiskBytesPerEntry = float64(s.DiskBytes) / float64(entries)
		s.YearDiskGB = s.DiskBytesPerEntry * s.EntriesPerCommand * YearCommands / (1 << 30)
	}
	if s.CommandsPerS > 0 {
		s.YearHours = YearCommands / s.CommandsPerS / 3600
	}
	s.YearAvgRatePerS = float64(YearCommands) / (365 * 86400)
	if s.YearAvgRatePerS > 0 {
		s.HeadroomVsYearAvg = s.CommandsPerS / s.YearAvgRatePerS
	}
	return s
}

// secondHalfGrowth is the live heap's growth per command between the first
// sample at or past half the run and the last sample; 0 without two such
// samples. The live heap is read as of the last GC, so it grows in steps:
// a run needs many GC cycles in its second half for this to be smooth.
func secondHalfGrowth(samples []ScaleSample) float64 {
	if len(samples) < 2 {
		return 0
	}
	last := samples[len(samples)-1]
	for _, first := range samples {
		if 2*first.Commands >= last.Commands && first.Commands < last.Commands {
			return (float64(last.HeapBytes) - float64(first.HeapBytes)) / float64(last.Commands-first.Commands)
		}
	}
	return 0
}
