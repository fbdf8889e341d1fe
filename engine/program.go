package engine

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Rate is points per amount: floor(amount × Points / Per) before multipliers.
type Rate struct {
	Points int64
	Per    int64
}

// Level is one tier level.
type Level struct {
	Name         string
	Threshold    int64
	MultiplierBP int64
	DiscountBP   int64
	Perks        []string
}

// Partner is one partner brand of the program.
type Partner struct {
	ID         string
	Rate       Rate
	HasRate    bool
	Categories map[string]Rate
}

// Campaign is a time-boxed multiplier and/or bonus.
type Campaign struct {
	ID           string
	FromMS, ToMS int64
	Partners     []string
	Categories   []string
	Tiers        []string
	MinAmount    int64
	MultiplierBP int64
	BonusPoints  int64
	BudgetPoints int64 // SPEC §10.1; 0: no budget

	partnerIdx []int32 // resolved; -1 for a partner the program does not list
	tierIdx    []int32
}

// Selector picks purchases by partner, category and amount, as a
// campaign does (SPEC §10.2: an offer's trigger and reward).
type Selector struct {
	Partners   []string
	Categories []string
	MinAmount  int64

	partnerIdx []int32 // resolved; -1 for a partner the program does not list
}

// Offer is a sales-spiral offer (SPEC §10.2): a purchase matching Trigger
// gives the member the offer for Days; a later purchase matching Reward
// uses it.
type Offer struct {
	ID           string
	Trigger      Selector
	Reward       Selector
	MultiplierBP int64
	BonusPoints  int64
	Days         int64
}

// Reward is an item of the reward catalogue (SPEC §10.5).
type Reward struct {
	ID         string
	Points     int64
	Partner    string
	Stock      int64 // 0: unlimited
	partnerIdx int32
}

// Plan is a paid club (SPEC §9.2).
type Plan struct {
	ID           string
	Days         int64
	MultiplierBP int64
}

// Challenge is a game (SPEC §9.4).
type Challenge struct {
	ID                 string
	FromMS, ToMS       int64
	Purchases          int64
	DistinctPartners   int64
	MinAmount          int64
	BonusPoints        int64
	DistinctCategories int64 // SPEC §10.3
}

// Action is a rewarded task (SPEC §9.5).
type Action struct {
	ID             string
	Points         int64
	PerMemberMonth int64
	Partner        string
	partnerIdx     int32 // -1: funded by the operator
}

// Expiry modes.
const (
	ExpiryNone       = "none"
	ExpiryLot        = "lot"
	ExpiryInactivity = "inactivity"
	ExpiryAnnual     = "annual"
)

// Program is a validated loyalty program (SPEC §2, §9, §10).
type Program struct {
	ID                string
	Unit              string
	Currency          string
	Rate              Rate
	Categories        map[string]Rate
	PendingDays       int64
	ExpiryMode        string
	ExpiryDays        int64
	ExpiryYears       int64
	ExpiryMonth       int64
	ExpiryDay         int64
	Metric            string // spend | purchases
	Levels            []Level
	CapPerPurchase    int64
	CapPerMemberMonth int64
	CapPerMemberDay   int64 // SPEC §10.4; 0: none
	PurchasesPerDay   int64 // limits.purchases_per_member_day; 0: none
	WelcomeBonus      int64
	MinRedemption     int64
	HoldTimeoutS      int64
	Partners          []Partner
	Campaigns         []Campaign
	Plans             []Plan
	HasReferral       bool
	ReferrerPoints    int64
	ReferredPoints    int64
	Challenges        []Challenge
	Actions           []Action
	HasTransfers      bool
	MinTransfer       int64
	Offers            []Offer
	Rewards           []Reward

	// Source is the document the program was parsed from.
	Source []byte

	partnerIndex map[string]int32
}

// ProgramError is a mistake in a program file; Field names where it is.
type ProgramError struct {
	Field   string
	Message string
}

func (e *ProgramError) Error() string {
	if e.Field == "" {
		return "program: " + e.Message
	}
	return "program: field " + e.Field + ": " + e.Message
}

func perr(field, format string, args ...any) error {
	return &ProgramError{Field: field, Message: fmt.Sprintf(format, args...)}
}

const (
	maxMultiplierBP = 100000
	maxProgramDays  = 1000000
	maxPointsValue  = int64(1) << 62
)

// ParseProgram parses and validates a program in YAML or JSON.
func ParseProgram(src []byte) (*Program, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, &ProgramError{Message: "not valid YAML or JSON: " + err.Error()}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &ProgramError{Message: "empty document"}
	}
	p := &Program{Source: append([]byte(nil), src...)}
	if err := p.parse(doc.Content[0]); err != nil {
		return nil, err
	}
	return p, nil
}

// partner returns the index of a partner id, or -1.
func (p *Program) partner(id []byte) int32 {
	if i, ok := p.partnerIndex[string(id)]; ok {
		return i
	}
	return -1
}

// PartnerIndex returns the index of a partner id, or -1.
func (p *Program) PartnerIndex(id string) int32 { return p.partner([]byte(id)) }

func (p *Program) plan(id []byte) int {
	for i := range p.Plans {
		if p.Plans[i].ID == string(id) {
			return i
		}
	}
	return -1
}

func (p *Program) action(id []byte) int {
	for i := range p.Actions {
		if p.Actions[i].ID == string(id) {
			return i
		}
	}
	return -1
}

func (p *Program) reward(id []byte) int {
	for i := range p.Rewards {
		if p.Rewards[i].ID == string(id) {
			return i
		}
	}
	return -1
}

// RewardPartner returns the partner of a reward of the catalogue, and
// whether the program lists the reward (SPEC §10.5).
func (p *Program) RewardPartner(id []byte) (string, bool) {
	if p == nil {
		return "", false
	}
	if i := p.reward(id); i >= 0 {
		return p.Rewards[i].Partner, true
	}
	return "", false
}

// hasDayCounters reports whether members need SPEC §10.4's day counters.
func (p *Program) hasDayCounters() bool { return p.CapPerMemberDay > 0 || p.PurchasesPerDay > 0 }

// levelFor returns the level index reached by a metric value.
func (p *Program) levelFor(metric int64) int {
	lv := 0
	for i := 1; i < len(p.Levels); i++ {
		if metric >= p.Levels[i].Threshold {
			lv = i
		}
	}
	return lv
}

// rateFor picks the rate of SPEC §5 purchase step 2.
func (p *Program) rateFor(partner int32, category []byte) Rate {
	pt := &p.Partners[partner]
	if len(category) > 0 {
		if r, ok := pt.Categories[string(category)]; ok {
			return r
		}
	}
	if pt.HasRate {
		return pt.Rate
	}
	if len(category) > 0 {
		if r, ok := p.Categories[string(category)]; ok {
			return r
		}
	}
	return p.Rate
}

// expiresAt returns the expires_at of a lot created at t (SPEC §5 step 7, §9.8).
func (p *Program) expiresAt(tMS int64) int64 {
	switch p.ExpiryMode {
	case ExpiryLot:
		return tMS + p.ExpiryDays*msPerDay
	case ExpiryAnnual:
		y := yearOf(tMS)
		if tMS >= p.annualDate(y) {
			y++
		}
		return p.annualDate(y + p.ExpiryYears)
	}
	return neverMS
}

func (p *Program) annualDate(y int64) int64 {
	return daysFromCivil(y, p.ExpiryMonth, p.ExpiryDay) * msPerDay
}
