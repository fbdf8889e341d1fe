package workload

import (
	"errors"
	"fmt"
)

// Profile names a workload shape (members, partners, command mix, program).
type Profile string

// The profiles.
const (
	Payback  Profile = "payback"
	Cashback Profile = "cashback"
	Airline  Profile = "airline"
	Club     Profile = "club"
)

// Profiles lists every profile, in a fixed order.
var Profiles = []Profile{Payback, Cashback, Airline, Club}

// Config describes one stream. New fills zero fields (except Seed) with the
// profile's defaults, see DefaultConfig.
type Config struct {
	Profile        Profile
	Seed           uint64
	Members        int   // member population; activity is Zipf-skewed over it
	Partners       int   // payback: any count >= 1; other profiles: fixed (2, 3, 4)
	StartMS        int64 // Unix milliseconds of the first command (0 = 2026-01-01T00:00:00Z)
	CommandsPerDay int64 // rate at which `at` advances
	TickEvery      int   // a tick every TickEvery commands; 0 = profile default (10000), < 0 = no ticks
	// Skew is the Zipf exponent of member activity (0 = 1.1). 1.1 puts most
	// activity on few members; a coalition's active members are flatter
	// (PAYBACK: 35M of them at ~52 purchases a year), which 0.8 reaches.
	Skew float64
}

// Start2026 is 2026-01-01T00:00:00Z in Unix milliseconds, the default StartMS.
const Start2026 int64 = 1_767_225_600_000

const defaultTickEvery = 10_000

const defaultSkew = 1.1

// DefaultConfig returns the profile's default configuration (Seed 0).
func DefaultConfig(p Profile) Config {
	c := Config{Profile: p, StartMS: Start2026, TickEvery: defaultTickEvery, Skew: defaultSkew}
	switch p {
	case Payback:
		c.Members, c.Partners, c.CommandsPerDay = 35_000_000, 700, 5_000_000
	case Cashback:
		c.Members, c.Partners, c.CommandsPerDay = 10_000_000, 2, 15_000_000
	case Airline:
		c.Members, c.Partners, c.CommandsPerDay = 2_000_000, 3, 300_000
	case Club:
		c.Members, c.Partners, c.CommandsPerDay = 1_000_000, 4, 500_000
	}
	return c
}

// resolve fills cfg's zero fields with the profile's defaults and checks
// the ranges.
func (cfg Config) resolve() (Config, error) {
	def := DefaultConfig(cfg.Profile)
	if def.Members == 0 {
		return cfg, fmt.Errorf("workload: unknown profile %q", cfg.Profile)
	}
	if cfg.Members == 0 {
		cfg.Members = def.Members
	}
	if cfg.Partners == 0 {
		cfg.Partners = def.Partners
	}
	if cfg.StartMS == 0 {
		cfg.StartMS = def.StartMS
	}
	if cfg.CommandsPerDay == 0 {
		cfg.CommandsPerDay = def.CommandsPerDay
	}
	if cfg.TickEvery == 0 {
		cfg.TickEvery = def.TickEvery
	}
	if cfg.Skew == 0 {
		cfg.Skew = defaultSkew
	}
	switch {
	case cfg.Members < 1 || uint64(cfg.Members) > 1<<32:
		return cfg, errors.New("workload: Members must be in 1 … 2^32")
	case cfg.Profile == Payback && (cfg.Partners < 1 || cfg.Partners > 100_000):
		return cfg, errors.New("workload: Partners must be in 1 … 100000")
	case cfg.Profile != Payback && cfg.Partners != def.Partners:
		return cfg, fmt.Errorf("workload: profile %s has exactly %d partners", cfg.Profile, def.Partners)
	case cfg.StartMS < 0 || cfg.StartMS >= 253_402_300_800_000-100*365*msPerDay: // keep years < 9900
		return cfg, errors.New("workload: StartMS out of range")
	case cfg.CommandsPerDay < 1 || cfg.CommandsPerDay > 1<<40:
		return cfg, errors.New("workload: CommandsPerDay must be in 1 … 2^40")
	case !(cfg.Skew >= 0.1 && cfg.Skew <= 4):
		return cfg, errors.New("workload: Skew must be in 0.1 … 4")
	}
	return cfg, nil
}
