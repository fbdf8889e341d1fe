package engine

import (
	"fmt"
	"strconv"

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

	partnerIdx []int32 // resolved; -1 for a partner the program does not list
	tierIdx    []int32
}

// Plan is a paid club (SPEC §9.2).
type Plan struct {
	ID           string
	Days         int64
	MultiplierBP int64
}

// Challenge is a game (SPEC §9.4).
type Challenge struct {
	ID               string
	FromMS, ToMS     int64
	Purchases        int64
	DistinctPartners int64
	MinAmount        int64
	BonusPoints      int64
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

// Program is a validated loyalty program (SPEC §2, §9).
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

type fields struct {
	path string
	m    map[string]*yaml.Node
}

func mapping(n *yaml.Node, path string, allowed ...string) (*fields, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil, perr(pathOr(path), "must be a mapping")
	}
	f := &fields{path: path, m: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		ok := false
		for _, a := range allowed {
			if a == k {
				ok = true
				break
			}
		}
		if !ok {
			return nil, perr(join(path, k), "unknown field")
		}
		if _, dup := f.m[k]; dup {
			return nil, perr(join(path, k), "appears twice")
		}
		v := n.Content[i+1]
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		f.m[k] = v
	}
	return f, nil
}

func pathOr(p string) string {
	if p == "" {
		return "(top level)"
	}
	return p
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func (f *fields) has(k string) bool { _, ok := f.m[k]; return ok }

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func (f *fields) str(k string, def string, required bool) (string, error) {
	n, ok := f.m[k]
	if !ok || isNull(n) {
		if required {
			return "", perr(join(f.path, k), "is required")
		}
		return def, nil
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!map" || n.Tag == "!!seq" {
		return "", perr(join(f.path, k), "must be a string")
	}
	return n.Value, nil
}

func (f *fields) int(k string, def int64, lo, hi int64) (int64, error) {
	n, ok := f.m[k]
	if !ok || isNull(n) {
		return def, nil
	}
	p := join(f.path, k)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		return 0, perr(p, "must be an integer")
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return 0, perr(p, "must be a decimal integer")
	}
	if v < lo || v > hi {
		return 0, perr(p, "must be within %d … %d, not %d", lo, hi, v)
	}
	return v, nil
}

func (f *fields) time(k string) (int64, error) {
	n, ok := f.m[k]
	p := join(f.path, k)
	if !ok || isNull(n) {
		return 0, perr(p, "is required")
	}
	if n.Kind != yaml.ScalarNode {
		return 0, perr(p, "must be an RFC 3339 timestamp")
	}
	t, good := parseRFC3339([]byte(n.Value))
	if !good {
		return 0, perr(p, "must be an RFC 3339 timestamp, not %q", n.Value)
	}
	return t, nil
}

func (f *fields) strList(k string) ([]string, error) {
	n, ok := f.m[k]
	if !ok || isNull(n) {
		return nil, nil
	}
	p := join(f.path, k)
	if n.Kind != yaml.SequenceNode {
		return nil, perr(p, "must be a list")
	}
	out := make([]string, 0, len(n.Content))
	for i, c := range n.Content {
		if c.Kind != yaml.ScalarNode || isNull(c) {
			return nil, perr(fmt.Sprintf("%s[%d]", p, i), "must be a string")
		}
		out = append(out, c.Value)
	}
	return out, nil
}

func (f *fields) list(k string) ([]*yaml.Node, error) {
	n, ok := f.m[k]
	if !ok || isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, perr(join(f.path, k), "must be a list")
	}
	return n.Content, nil
}

func parseRate(n *yaml.Node, path string) (Rate, error) {
	f, err := mapping(n, path, "points", "per")
	if err != nil {
		return Rate{}, err
	}
	if !f.has("points") {
		return Rate{}, perr(join(path, "points"), "is required")
	}
	if !f.has("per") {
		return Rate{}, perr(join(path, "per"), "is required")
	}
	pts, err := f.int("points", 0, -1<<63, 1<<63-1)
	if err != nil {
		return Rate{}, err
	}
	per, err := f.int("per", 0, -1<<63, 1<<63-1)
	if err != nil {
		return Rate{}, err
	}
	if pts < 0 {
		return Rate{}, perr(join(path, "points"), "must not be negative")
	}
	if per <= 0 {
		return Rate{}, perr(join(path, "per"), "must be greater than 0")
	}
	if per <= (1<<63-1)/1000 && pts > 1000*per {
		return Rate{}, perr(join(path, "points"), "must be at most 1000 × per")
	}
	return Rate{Points: pts, Per: per}, nil
}

func parseCategoryRates(n *yaml.Node, path string) (map[string]Rate, error) {
	if n == nil || isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, perr(path, "must be a mapping of category to rate")
	}
	out := map[string]Rate{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		p := join(path, k)
		if !validToken(k, 32) {
			return nil, perr(p, "category must be 1–32 bytes of [a-z0-9_-]")
		}
		if _, dup := out[k]; dup {
			return nil, perr(p, "appears twice")
		}
		r, err := parseRate(n.Content[i+1], p)
		if err != nil {
			return nil, err
		}
		out[k] = r
	}
	return out, nil
}

func validToken(s string, max int) bool {
	if len(s) < 1 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (p *Program) parse(root *yaml.Node) error {
	f, err := mapping(root, "", "program", "unit", "currency", "earn", "pending_days", "expiry", "tiers",
		"caps", "welcome_bonus", "redemption", "partners", "campaigns",
		"plans", "referral", "challenges", "actions", "transfers")
	if err != nil {
		return err
	}
	if p.ID, err = f.str("program", "", true); err != nil {
		return err
	}
	if p.Unit, err = f.str("unit", "points", false); err != nil {
		return err
	}
	if p.Unit != "points" && p.Unit != "money" {
		return perr("unit", "must be points or money, not %q", p.Unit)
	}
	if p.Currency, err = f.str("currency", "", false); err != nil {
		return err
	}
	p.Rate = Rate{Points: 1, Per: 200}
	if n, ok := f.m["earn"]; ok && !isNull(n) {
		ef, err := mapping(n, "earn", "rate", "categories")
		if err != nil {
			return err
		}
		if rn, ok := ef.m["rate"]; ok {
			if p.Rate, err = parseRate(rn, "earn.rate"); err != nil {
				return err
			}
		}
		if p.Categories, err = parseCategoryRates(ef.m["categories"], "earn.categories"); err != nil {
			return err
		}
	}
	if p.PendingDays, err = f.int("pending_days", 0, 0, maxProgramDays); err != nil {
		return err
	}
	p.ExpiryMode = ExpiryNone
	if n, ok := f.m["expiry"]; ok && !isNull(n) {
		if err := p.parseExpiry(n); err != nil {
			return err
		}
	}
	if err := p.parseTiers(f.m["tiers"]); err != nil {
		return err
	}
	if n, ok := f.m["caps"]; ok && !isNull(n) {
		cf, err := mapping(n, "caps", "per_purchase", "per_member_month")
		if err != nil {
			return err
		}
		if p.CapPerPurchase, err = cf.int("per_purchase", 0, 0, maxPointsValue); err != nil {
			return err
		}
		if p.CapPerMemberMonth, err = cf.int("per_member_month", 0, 0, maxPointsValue); err != nil {
			return err
		}
	}
	if p.WelcomeBonus, err = f.int("welcome_bonus", 0, 0, maxPointsValue); err != nil {
		return err
	}
	p.MinRedemption, p.HoldTimeoutS = 1, 900
	if n, ok := f.m["redemption"]; ok && !isNull(n) {
		rf, err := mapping(n, "redemption", "min_points", "hold_timeout_s")
		if err != nil {
			return err
		}
		if p.MinRedemption, err = rf.int("min_points", 1, 0, maxPointsValue); err != nil {
			return err
		}
		if p.HoldTimeoutS, err = rf.int("hold_timeout_s", 900, 1, 86400); err != nil {
			return err
		}
	}
	if err := p.parsePartners(f); err != nil {
		return err
	}
	if err := p.parseCampaigns(f); err != nil {
		return err
	}
	return p.parseKinds(f)
}

func (p *Program) parseExpiry(n *yaml.Node) error {
	ef, err := mapping(n, "expiry", "mode", "days", "years", "date")
	if err != nil {
		return err
	}
	if p.ExpiryMode, err = ef.str("mode", ExpiryNone, false); err != nil {
		return err
	}
	switch p.ExpiryMode {
	case ExpiryNone:
	case ExpiryLot, ExpiryInactivity:
		if !ef.has("days") {
			return perr("expiry.days", "is required in mode %s", p.ExpiryMode)
		}
		if p.ExpiryDays, err = ef.int("days", 0, 1, maxProgramDays); err != nil {
			return err
		}
		if p.ExpiryDays <= p.PendingDays {
			return perr("expiry.days", "must be greater than pending_days (%d)", p.PendingDays)
		}
	case ExpiryAnnual:
		if p.ExpiryYears, err = ef.int("years", 0, 1, 100); err != nil {
			return err
		}
		if !ef.has("years") {
			return perr("expiry.years", "is required in mode annual")
		}
		d, err := ef.str("date", "", true)
		if err != nil {
			return err
		}
		m, okm := digits([]byte(d), 2)
		day, okd := digits([]byte(d)[min(3, len(d)):], 2)
		if len(d) != 5 || d[2] != '-' || !okm || !okd || m < 1 || m > 12 || day < 1 || day > daysInMonth(2001, m) {
			return perr("expiry.date", "must be MM-DD and exist in every year, not %q", d)
		}
		p.ExpiryMonth, p.ExpiryDay = m, day
	default:
		return perr("expiry.mode", "must be none, lot, inactivity or annual, not %q", p.ExpiryMode)
	}
	return nil
}

func (p *Program) parseTiers(n *yaml.Node) error {
	p.Metric = "spend"
	if n == nil || isNull(n) {
		p.Levels = []Level{{Name: "base", MultiplierBP: 10000}}
		return nil
	}
	tf, err := mapping(n, "tiers", "metric", "levels")
	if err != nil {
		return err
	}
	if p.Metric, err = tf.str("metric", "spend", false); err != nil {
		return err
	}
	if p.Metric != "spend" && p.Metric != "purchases" {
		return perr("tiers.metric", "must be spend or purchases, not %q", p.Metric)
	}
	levels, err := tf.list("levels")
	if err != nil {
		return err
	}
	if len(levels) == 0 {
		return perr("tiers.levels", "must list at least one level")
	}
	if len(levels) > 255 {
		return perr("tiers.levels", "at most 255 levels")
	}
	for i, ln := range levels {
		path := fmt.Sprintf("tiers.levels[%d]", i)
		lf, err := mapping(ln, path, "name", "threshold", "multiplier_bp", "discount_bp", "perks")
		if err != nil {
			return err
		}
		var l Level
		if l.Name, err = lf.str("name", "", true); err != nil {
			return err
		}
		if l.Name == "" {
			return perr(path+".name", "must not be empty")
		}
		if l.Threshold, err = lf.int("threshold", 0, 0, maxPointsValue); err != nil {
			return err
		}
		if l.MultiplierBP, err = lf.int("multiplier_bp", 10000, 0, maxMultiplierBP); err != nil {
			return err
		}
		if l.DiscountBP, err = lf.int("discount_bp", 0, 0, 10000); err != nil {
			return err
		}
		if l.Perks, err = lf.strList("perks"); err != nil {
			return err
		}
		if i == 0 && l.Threshold != 0 {
			return perr(path+".threshold", "the first level's threshold must be 0")
		}
		if i > 0 && l.Threshold <= p.Levels[i-1].Threshold {
			return perr(path+".threshold", "thresholds must be strictly ascending")
		}
		for _, prev := range p.Levels {
			if prev.Name == l.Name {
				return perr(path+".name", "level %q appears twice", l.Name)
			}
		}
		p.Levels = append(p.Levels, l)
	}
	return nil
}

func (p *Program) parsePartners(f *fields) error {
	list, err := f.list("partners")
	if err != nil {
		return err
	}
	p.partnerIndex = map[string]int32{}
	for i, pn := range list {
		path := fmt.Sprintf("partners[%d]", i)
		pf, err := mapping(pn, path, "id", "rate", "categories")
		if err != nil {
			return err
		}
		var pt Partner
		if pt.ID, err = pf.str("id", "", true); err != nil {
			return err
		}
		if !validToken(pt.ID, 32) {
			return perr(path+".id", "must be 1–32 bytes of [a-z0-9_-], not %q", pt.ID)
		}
		if _, dup := p.partnerIndex[pt.ID]; dup {
			return perr(path+".id", "partner %q appears twice", pt.ID)
		}
		if rn, ok := pf.m["rate"]; ok && !isNull(rn) {
			if pt.Rate, err = parseRate(rn, path+".rate"); err != nil {
				return err
			}
			pt.HasRate = true
		}
		if pt.Categories, err = parseCategoryRates(pf.m["categories"], path+".categories"); err != nil {
			return err
		}
		p.partnerIndex[pt.ID] = int32(len(p.Partners))
		p.Partners = append(p.Partners, pt)
	}
	if len(p.Partners) > 1<<16 {
		return perr("partners", "at most 65536 partners")
	}
	return nil
}

func (p *Program) parseCampaigns(f *fields) error {
	list, err := f.list("campaigns")
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, cn := range list {
		path := fmt.Sprintf("campaigns[%d]", i)
		cf, err := mapping(cn, path, "id", "from", "to", "partners", "categories", "tiers",
			"min_amount", "multiplier_bp", "bonus_points")
		if err != nil {
			return err
		}
		var c Campaign
		if c.ID, err = cf.str("id", "", true); err != nil {
			return err
		}
		if seen[c.ID] {
			return perr(path+".id", "campaign %q appears twice", c.ID)
		}
		seen[c.ID] = true
		if c.FromMS, err = cf.time("from"); err != nil {
			return err
		}
		if c.ToMS, err = cf.time("to"); err != nil {
			return err
		}
		if c.ToMS <= c.FromMS {
			return perr(path+".to", "must be after from")
		}
		if c.Partners, err = cf.strList("partners"); err != nil {
			return err
		}
		if c.Categories, err = cf.strList("categories"); err != nil {
			return err
		}
		if c.Tiers, err = cf.strList("tiers"); err != nil {
			return err
		}
		if c.MinAmount, err = cf.int("min_amount", 0, -1<<63, maxPointsValue); err != nil {
			return err
		}
		if c.MinAmount < 0 {
			return perr(path+".min_amount", "must not be negative")
		}
		if c.MultiplierBP, err = cf.int("multiplier_bp", 10000, 0, maxMultiplierBP); err != nil {
			return err
		}
		if c.BonusPoints, err = cf.int("bonus_points", 0, -1<<63, maxPointsValue); err != nil {
			return err
		}
		if c.BonusPoints < 0 {
			return perr(path+".bonus_points", "must not be negative")
		}
		// Names the program does not list never match; SPEC does not make them invalid.
		for _, id := range c.Partners {
			idx, ok := p.partnerIndex[id]
			if !ok {
				idx = -1
			}
			c.partnerIdx = append(c.partnerIdx, idx)
		}
		for _, name := range c.Tiers {
			idx := int32(-1)
			for li, l := range p.Levels {
				if l.Name == name {
					idx = int32(li)
				}
			}
			c.tierIdx = append(c.tierIdx, idx)
		}
		p.Campaigns = append(p.Campaigns, c)
	}
	return nil
}

func (p *Program) parseKinds(f *fields) error {
	plans, err := f.list("plans")
	if err != nil {
		return err
	}
	for i, n := range plans {
		path := fmt.Sprintf("plans[%d]", i)
		pf, err := mapping(n, path, "id", "days", "multiplier_bp")
		if err != nil {
			return err
		}
		var pl Plan
		if pl.ID, err = pf.str("id", "", true); err != nil {
			return err
		}
		if pl.ID == "" {
			return perr(path+".id", "must not be empty")
		}
		for _, q := range p.Plans {
			if q.ID == pl.ID {
				return perr(path+".id", "plan %q appears twice", pl.ID)
			}
		}
		if !pf.has("days") {
			return perr(path+".days", "is required")
		}
		if pl.Days, err = pf.int("days", 0, 1, maxProgramDays); err != nil {
			return err
		}
		if pl.MultiplierBP, err = pf.int("multiplier_bp", 10000, 0, maxMultiplierBP); err != nil {
			return err
		}
		p.Plans = append(p.Plans, pl)
	}
	if len(p.Plans) > 250 {
		return perr("plans", "at most 250 plans")
	}
	if n, ok := f.m["referral"]; ok && !isNull(n) {
		rf, err := mapping(n, "referral", "referrer_points", "referred_points")
		if err != nil {
			return err
		}
		p.HasReferral = true
		if p.ReferrerPoints, err = rf.int("referrer_points", 0, 0, maxPointsValue); err != nil {
			return err
		}
		if p.ReferredPoints, err = rf.int("referred_points", 0, 0, maxPointsValue); err != nil {
			return err
		}
	}
	chs, err := f.list("challenges")
	if err != nil {
		return err
	}
	for i, n := range chs {
		path := fmt.Sprintf("challenges[%d]", i)
		cf, err := mapping(n, path, "id", "from", "to", "purchases", "distinct_partners", "min_amount", "bonus_points")
		if err != nil {
			return err
		}
		var c Challenge
		if c.ID, err = cf.str("id", "", true); err != nil {
			return err
		}
		for _, q := range p.Challenges {
			if q.ID == c.ID {
				return perr(path+".id", "challenge %q appears twice", c.ID)
			}
		}
		if c.FromMS, err = cf.time("from"); err != nil {
			return err
		}
		if c.ToMS, err = cf.time("to"); err != nil {
			return err
		}
		if c.ToMS <= c.FromMS {
			return perr(path+".to", "must be after from")
		}
		if c.Purchases, err = cf.int("purchases", 1, 0, 1<<31); err != nil {
			return err
		}
		if c.DistinctPartners, err = cf.int("distinct_partners", 1, 0, 1<<16); err != nil {
			return err
		}
		if c.MinAmount, err = cf.int("min_amount", 0, 0, maxPointsValue); err != nil {
			return err
		}
		if c.BonusPoints, err = cf.int("bonus_points", 0, 0, maxPointsValue); err != nil {
			return err
		}
		p.Challenges = append(p.Challenges, c)
	}
	if len(p.Challenges) > 64 {
		return perr("challenges", "at most 64 challenges")
	}
	acts, err := f.list("actions")
	if err != nil {
		return err
	}
	for i, n := range acts {
		path := fmt.Sprintf("actions[%d]", i)
		af, err := mapping(n, path, "id", "points", "per_member_month", "partner")
		if err != nil {
			return err
		}
		var a Action
		if a.ID, err = af.str("id", "", true); err != nil {
			return err
		}
		for _, q := range p.Actions {
			if q.ID == a.ID {
				return perr(path+".id", "action %q appears twice", a.ID)
			}
		}
		if !af.has("points") {
			return perr(path+".points", "is required")
		}
		if a.Points, err = af.int("points", 0, 0, maxPointsValue); err != nil {
			return err
		}
		if a.PerMemberMonth, err = af.int("per_member_month", 0, 0, 1<<31); err != nil {
			return err
		}
		if a.Partner, err = af.str("partner", "", false); err != nil {
			return err
		}
		a.partnerIdx = -1
		if a.Partner != "" {
			idx, ok := p.partnerIndex[a.Partner]
			if !ok {
				return perr(path+".partner", "names no partner of the program: %q", a.Partner)
			}
			a.partnerIdx = idx
		}
		p.Actions = append(p.Actions, a)
	}
	if len(p.Actions) > 64 {
		return perr("actions", "at most 64 actions")
	}
	if n, ok := f.m["transfers"]; ok && !isNull(n) {
		tf, err := mapping(n, "transfers", "min_points")
		if err != nil {
			return err
		}
		p.HasTransfers = true
		if p.MinTransfer, err = tf.int("min_points", 1, 0, maxPointsValue); err != nil {
			return err
		}
	}
	return nil
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
