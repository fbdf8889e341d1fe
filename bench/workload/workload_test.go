package workload

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite testdata/bench/<profile>.yaml from the generators")

func testdataPath(p Profile) string {
	return filepath.Join("..", "..", "testdata", "bench", string(p)+".yaml")
}

func gen(t testing.TB, cfg Config) *Generator {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func stream(t testing.TB, cfg Config, count int) []byte {
	var b bytes.Buffer
	if err := Write(&b, cfg, int64(count)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDeterminism(t *testing.T) {
	for _, p := range Profiles {
		t.Run(string(p), func(t *testing.T) {
			cfg := DefaultConfig(p)
			cfg.Seed = 42
			a := stream(t, cfg, 50_000)
			b := stream(t, cfg, 50_000)
			if !bytes.Equal(a, b) {
				t.Fatal("same seed, different bytes")
			}
			// Write and Next agree, whatever the buffer sizes.
			g := gen(t, cfg)
			var c []byte
			for range 50_000 {
				c = g.Next(c)
			}
			if !bytes.Equal(a, c) {
				t.Fatal("Write differs from Next")
			}
			// A prefix of a longer stream is the shorter stream.
			if long := stream(t, cfg, 60_000); !bytes.HasPrefix(long, a) {
				t.Fatal("stream of 50k is not a prefix of the stream of 60k")
			}
			cfg.Seed = 43
			if d := stream(t, cfg, 1000); bytes.Equal(d, a[:len(d)]) {
				t.Fatal("different seeds, same bytes")
			}
		})
	}
}

// program mirrors SPEC §2 and §9 with strict decoding, so a field the spec
// does not name fails the test.
type rate struct {
	Points int64 `yaml:"points"`
	Per    int64 `yaml:"per"`
}
type program struct {
	Program  string `yaml:"program"`
	Unit     string `yaml:"unit"`
	Currency string `yaml:"currency"`
	Earn     struct {
		Rate       rate            `yaml:"rate"`
		Categories map[string]rate `yaml:"categories"`
	} `yaml:"earn"`
	PendingDays int64 `yaml:"pending_days"`
	Expiry      struct {
		Mode  string `yaml:"mode"`
		Days  int64  `yaml:"days"`
		Years int64  `yaml:"years"`
		Date  string `yaml:"date"`
	} `yaml:"expiry"`
	Tiers *struct {
		Metric string `yaml:"metric"`
		Levels []struct {
			Name         string   `yaml:"name"`
			Threshold    int64    `yaml:"threshold"`
			MultiplierBP int64    `yaml:"multiplier_bp"`
			DiscountBP   int64    `yaml:"discount_bp"`
			Perks        []string `yaml:"perks"`
		} `yaml:"levels"`
	} `yaml:"tiers"`
	Caps struct {
		PerPurchase    int64 `yaml:"per_purchase"`
		PerMemberMonth int64 `yaml:"per_member_month"`
		PerMemberDay   int64 `yaml:"per_member_day"`
	} `yaml:"caps"`
	Limits *struct {
		PurchasesPerMemberDay int64 `yaml:"purchases_per_member_day"`
	} `yaml:"limits"`
	WelcomeBonus int64 `yaml:"welcome_bonus"`
	Redemption   struct {
		MinPoints    int64 `yaml:"min_points"`
		HoldTimeoutS int64 `yaml:"hold_timeout_s"`
	} `yaml:"redemption"`
	Partners []struct {
		ID         string          `yaml:"id"`
		Rate       *rate           `yaml:"rate"`
		Categories map[string]rate `yaml:"categories"`
	} `yaml:"partners"`
	Campaigns []struct {
		ID           string    `yaml:"id"`
		From         time.Time `yaml:"from"`
		To           time.Time `yaml:"to"`
		Partners     []string  `yaml:"partners"`
		Categories   []string  `yaml:"categories"`
		Tiers        []string  `yaml:"tiers"`
		MinAmount    int64     `yaml:"min_amount"`
		MultiplierBP *int64    `yaml:"multiplier_bp"`
		BonusPoints  int64     `yaml:"bonus_points"`
		BudgetPoints *int64    `yaml:"budget_points"`
	} `yaml:"campaigns"`
	Plans []struct {
		ID           string `yaml:"id"`
		Days         int64  `yaml:"days"`
		MultiplierBP int64  `yaml:"multiplier_bp"`
	} `yaml:"plans"`
	Referral *struct {
		ReferrerPoints int64 `yaml:"referrer_points"`
		ReferredPoints int64 `yaml:"referred_points"`
	} `yaml:"referral"`
	Challenges []struct {
		ID               string    `yaml:"id"`
		From             time.Time `yaml:"from"`
		To               time.Time `yaml:"to"`
		Purchases        int64     `yaml:"purchases"`
		DistinctPartners int64     `yaml:"distinct_partners"`
		MinAmount        int64     `yaml:"min_amount"`
		BonusPoints      int64     `yaml:"bonus_points"`
	} `yaml:"challenges"`
	Actions []struct {
		ID             string `yaml:"id"`
		Points         int64  `yaml:"points"`
		PerMemberMonth int64  `yaml:"per_member_month"`
		Partner        string `yaml:"partner"`
	} `yaml:"actions"`
	Transfers *struct {
		MinPoints int64 `yaml:"min_points"`
	} `yaml:"transfers"`
}

var (
	reMember  = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)
	rePartner = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)
)

func parseProgram(t *testing.T, src []byte) *program {
	t.Helper()
	var p program
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("program does not parse strictly: %v", err)
	}
	checkRate := func(what string, r rate) {
		if r.Points < 0 || r.Per <= 0 || r.Points > 1000*r.Per {
			t.Errorf("%s: bad rate %+v", what, r)
		}
	}
	checkRate("earn.rate", p.Earn.Rate)
	for c, r := range p.Earn.Categories {
		checkRate("earn.categories."+c, r)
	}
	switch p.Expiry.Mode {
	case "lot", "inactivity":
		if p.Expiry.Days <= p.PendingDays {
			t.Errorf("expiry.days %d <= pending_days", p.Expiry.Days)
		}
	case "none", "annual":
	default:
		t.Errorf("expiry.mode %q", p.Expiry.Mode)
	}
	if p.Tiers != nil {
		for i, l := range p.Tiers.Levels {
			if (i == 0 && l.Threshold != 0) || (i > 0 && l.Threshold <= p.Tiers.Levels[i-1].Threshold) {
				t.Errorf("tier thresholds not ascending from 0")
			}
			if l.MultiplierBP < 0 || l.MultiplierBP > 100000 || l.DiscountBP < 0 || l.DiscountBP > 10000 {
				t.Errorf("tier %s out of range", l.Name)
			}
		}
	}
	seen := map[string]bool{}
	for _, pa := range p.Partners {
		if seen[pa.ID] || !rePartner.MatchString(pa.ID) {
			t.Errorf("partner id %q repeated or ill-formed", pa.ID)
		}
		seen[pa.ID] = true
		if pa.Rate != nil {
			checkRate(pa.ID, *pa.Rate)
		}
		for c, r := range pa.Categories {
			checkRate(pa.ID+"."+c, r)
		}
	}
	for _, c := range p.Campaigns {
		if !c.To.After(c.From) || c.MinAmount < 0 || c.BonusPoints < 0 || c.BudgetPoints != nil && *c.BudgetPoints < 1 {
			t.Errorf("campaign %s invalid", c.ID)
		}
		for _, pa := range c.Partners {
			if !seen[pa] {
				t.Errorf("campaign %s names unknown partner %s", c.ID, pa)
			}
		}
	}
	return &p
}

func TestPrograms(t *testing.T) {
	for _, p := range Profiles {
		t.Run(string(p), func(t *testing.T) {
			g := gen(t, DefaultConfig(p))
			src := g.Program()
			parseProgram(t, src)
			path := testdataPath(p)
			if *update {
				if err := os.WriteFile(path, src, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			file, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestPrograms -update)", err)
			}
			if !bytes.Equal(file, src) {
				t.Fatalf("%s differs from Program() (run go test -run TestPrograms -update)", path)
			}
		})
	}
	// payback with another partner count names exactly those partners.
	g := gen(t, Config{Profile: Payback, Partners: 1234})
	if pr := parseProgram(t, g.Program()); len(pr.Partners) != 1234 || pr.Partners[1233].ID != "p1233" {
		t.Fatalf("payback program with 1234 partners: got %d", len(pr.Partners))
	}
}

type cmd struct {
	Type     string `json:"type"`
	ID       string `json:"id"`
	Member   string `json:"member"`
	Partner  string `json:"partner"`
	Original string `json:"original"`
	Amount   *int64 `json:"amount"`
	Points   *int64 `json:"points"`
	Category string `json:"category"`
	Reason   string `json:"reason"`
	Plan     string `json:"plan"`
	Referred string `json:"referred"`
	Action   string `json:"action"`
	To       string `json:"to"`
	TimeoutS *int64 `json:"timeout_s"`
	At       string `json:"at"`
}

// Fields each command type may (optional marked "?") carry (SPEC §5, §9).
var shapes = map[string][]string{
	"purchase":          {"type", "id", "member", "partner", "amount", "category?", "at"},
	"refund":            {"type", "id", "member", "partner", "original", "amount", "at"},
	"redeem":            {"type", "id", "member", "partner", "points", "at"},
	"cancel_redemption": {"type", "id", "original", "at"},
	"adjust":            {"type", "id", "member", "points", "reason?", "at"},
	"tick":              {"type", "id?", "at"},
	"quote":             {"type", "id?", "member", "partner", "amount", "category?", "at?"},
	"membership":        {"type", "id", "member", "plan", "at"},
	"referral":          {"type", "id", "member", "referred", "at"},
	"action":            {"type", "id", "member", "action", "at"},
	"transfer":          {"type", "id", "member", "to", "points", "at"},
	"hold":              {"type", "id", "member", "partner", "points", "timeout_s?", "at"},
	"capture":           {"type", "id", "original", "points?", "at"},
	"release":           {"type", "id", "original", "at"},
}

type purchaseInfo struct {
	member, partner  string
	amount, refunded int64
}

// checkStream validates every line of a stream against the program and the
// SPEC, and returns the count of each type.
func checkStream(t *testing.T, cfg Config, prog *program, data []byte) map[string]int {
	t.Helper()
	partners := map[string]bool{}
	for _, p := range prog.Partners {
		partners[p.ID] = true
	}
	plans := map[string]bool{}
	for _, p := range prog.Plans {
		plans[p.ID] = true
	}
	actions := map[string]bool{}
	for _, a := range prog.Actions {
		actions[a.ID] = true
	}
	counts := map[string]int{}
	ids := map[string]bool{}
	members := map[string]bool{}
	purchases := map[string]*purchaseInfo{}
	redemptions := map[string]bool{} // id -> cancelled
	holds := map[string]bool{}       // id -> closed
	holdPoints := map[string]int64{}
	fail := 0
	errorf := func(line int, format string, args ...any) {
		t.Helper()
		if fail++; fail < 20 {
			t.Errorf("line %d: "+format, append([]any{line}, args...)...)
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	line := 0
	prevNominal := cfg.StartMS
	for ; sc.Scan(); line++ {
		raw := sc.Bytes()
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			errorf(line, "not JSON: %v: %s", err, raw)
			continue
		}
		var c cmd
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			errorf(line, "%v: %s", err, raw)
			continue
		}
		counts[c.Type]++
		shape, ok := shapes[c.Type]
		if !ok {
			errorf(line, "unknown type %q", c.Type)
			continue
		}
		allowed := map[string]bool{}
		for _, f := range shape {
			name, opt := strings.CutSuffix(f, "?")
			allowed[name] = true
			if _, has := fields[name]; !has && !opt {
				errorf(line, "%s without %s: %s", c.Type, name, raw)
			}
		}
		for k, v := range fields {
			if !allowed[k] {
				errorf(line, "%s with field %s", c.Type, k)
			}
			if len(v) > 0 && v[0] != '"' {
				if _, err := strconv.ParseInt(string(v), 10, 64); err != nil {
					errorf(line, "field %s is not a JSON integer: %s", k, v)
				}
			}
		}
		// ids: "<profile>-<line>", hence unique.
		if c.ID != "" {
			if want := fmt.Sprintf("%s-%d", cfg.Profile, line); c.ID != want {
				errorf(line, "id %q, want %q", c.ID, want)
			}
			if ids[c.ID] {
				errorf(line, "duplicate id %s", c.ID)
			}
			ids[c.ID] = true
		}
		// at: RFC 3339 UTC milliseconds, near the nominal time.
		at, err := time.Parse("2006-01-02T15:04:05.000Z07:00", c.At)
		if err != nil || !strings.HasSuffix(c.At, "Z") || len(c.At) != 24 {
			errorf(line, "bad at %q", c.At)
		}
		nominal := cfg.StartMS + int64(line)*msPerDay/cfg.CommandsPerDay
		if ms := at.UnixMilli(); ms < cfg.StartMS || ms > nominal+1000 || ms < nominal-3*3600_000-25_000 {
			errorf(line, "at %s too far from nominal %s", c.At, time.UnixMilli(nominal).UTC())
		}
		if nominal < prevNominal {
			errorf(line, "time goes back")
		}
		prevNominal = nominal
		if _, has := fields["member"]; has && !reMember.MatchString(c.Member) {
			errorf(line, "bad member %q", c.Member)
		}
		if _, has := fields["partner"]; has && !partners[c.Partner] {
			errorf(line, "unknown partner %q", c.Partner)
		}
		if _, has := fields["category"]; has && !rePartner.MatchString(c.Category) {
			errorf(line, "bad category %q", c.Category)
		}
		if c.Amount != nil && (*c.Amount < 1 || *c.Amount > 1e12) {
			errorf(line, "amount %d out of range", *c.Amount)
		}
		if c.Points != nil && (*c.Points == 0 || *c.Points > 1e15 || *c.Points < -1e15 ||
			(*c.Points < 0 && c.Type != "adjust")) {
			errorf(line, "points %d out of range", *c.Points)
		}
		if len(c.Reason) > 256 {
			errorf(line, "reason too long")
		}
		switch c.Type {
		case "purchase":
			purchases[c.ID] = &purchaseInfo{member: c.Member, partner: c.Partner, amount: *c.Amount}
		case "refund":
			p := purchases[c.Original]
			switch {
			case p == nil:
				errorf(line, "refund of %s: no earlier purchase", c.Original)
			case p.member != c.Member || p.partner != c.Partner:
				errorf(line, "refund of %s: member/partner %s/%s, purchase has %s/%s", c.Original, c.Member, c.Partner, p.member, p.partner)
			default:
				if p.refunded += *c.Amount; p.refunded > p.amount {
					errorf(line, "refunds of %s exceed its amount", c.Original)
				}
			}
		case "redeem":
			if *c.Points < prog.Redemption.MinPoints {
				errorf(line, "redeem below min_points")
			}
			redemptions[c.ID] = false
		case "cancel_redemption":
			cancelled, ok := redemptions[c.Original]
			if !ok || cancelled {
				errorf(line, "cancel of %s: no earlier redemption, or cancelled before", c.Original)
			}
			redemptions[c.Original] = true
		case "membership":
			if !plans[c.Plan] {
				errorf(line, "unknown plan %q", c.Plan)
			}
		case "action":
			if !actions[c.Action] {
				errorf(line, "unknown action %q", c.Action)
			}
		case "referral":
			if members[c.Referred] || c.Referred == c.Member || !members[c.Member] {
				errorf(line, "referral of an existing member %s, or by an unknown one %s", c.Referred, c.Member)
			}
			if !reMember.MatchString(c.Referred) {
				errorf(line, "bad referred %q", c.Referred)
			}
		case "transfer":
			if c.Member == c.To || !reMember.MatchString(c.To) || *c.Points < prog.Transfers.MinPoints {
				errorf(line, "bad transfer %s", raw)
			}
		case "hold":
			if c.TimeoutS != nil && (*c.TimeoutS < 1 || *c.TimeoutS > 86400) {
				errorf(line, "timeout_s out of range")
			}
			holds[c.ID] = false
			holdPoints[c.ID] = *c.Points
		case "capture", "release":
			closed, ok := holds[c.Original]
			if !ok || closed {
				errorf(line, "%s of %s: no open hold", c.Type, c.Original)
			}
			holds[c.Original] = true
			if c.Points != nil && *c.Points > holdPoints[c.Original] {
				errorf(line, "capture exceeds hold")
			}
		}
		for _, m := range []string{c.Member, c.To, c.Referred} {
			if m != "" && c.Type != "quote" {
				members[m] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return counts
}

func TestStreamsValid(t *testing.T) {
	for _, p := range Profiles {
		t.Run(string(p), func(t *testing.T) {
			cfg := DefaultConfig(p)
			cfg.Seed = 1
			cfg.TickEvery = 1000
			g := gen(t, cfg)
			cfg = g.Config()
			prog := parseProgram(t, g.Program())
			counts := checkStream(t, cfg, prog, stream(t, cfg, 30_000))
			t.Logf("%v", counts)
		})
	}
}

// Small populations and odd settings: many refunds of the same purchases,
// many cancels of the same redemptions, one member.
func TestStreamsValidSmall(t *testing.T) {
	for _, p := range Profiles {
		for _, members := range []int{1, 2, 17} {
			cfg := Config{Profile: p, Seed: uint64(members), Members: members, CommandsPerDay: 50_000_000, TickEvery: 7}
			if p == Payback {
				cfg.Partners = 3
			}
			g := gen(t, cfg)
			prog := parseProgram(t, g.Program())
			checkStream(t, g.Config(), prog, stream(t, cfg, 20_000))
		}
	}
}

func TestMix(t *testing.T) {
	const n = 100_000
	for _, p := range Profiles {
		t.Run(string(p), func(t *testing.T) {
			cfg := DefaultConfig(p)
			cfg.Seed = 99
			counts := map[string]int{}
			for line := range bytes.Lines(stream(t, cfg, n)) {
				// every line starts {"type":"<type>"
				typ, _, _ := bytes.Cut(line[len(`{"type":"`):], []byte(`"`))
				counts[string(typ)]++
			}
			if want := n / cfg.TickEvery; counts["tick"] != want {
				t.Errorf("ticks: %d, want %d", counts["tick"], want)
			}
			mixed := n - counts["tick"] - counts["capture"] - counts["release"]
			for _, e := range mixes[p] {
				name := kindNames[e.k]
				got := float64(counts[name]) / float64(mixed)
				want := float64(e.bp) / 10000
				// 4 sigma of a binomial proportion, plus the few fallbacks to purchases.
				tol := 4*math.Sqrt(want*(1-want)/float64(mixed)) + 0.002
				if math.Abs(got-want) > tol {
					t.Errorf("%s: %.4f of the commands, want %.4f ± %.4f", name, got, want, tol)
				}
			}
			if p == Club {
				followed := float64(counts["capture"]+counts["release"]) / float64(counts["hold"])
				if math.Abs(followed-0.95) > 0.02 {
					t.Errorf("captures+releases per hold: %.3f, want 0.95", followed)
				}
			}
			t.Logf("%v", counts)
		})
	}
}

// TestZipf checks the sampler's mass at both the default skew and the
// flatter one `--skew 0.8` asks for.
func TestZipf(t *testing.T) {
	for _, s := range []float64{1.1, 0.8} {
		t.Run(fmt.Sprint(s), func(t *testing.T) { testZipf(t, s) })
	}
}

func testZipf(t *testing.T, s float64) {
	const n, samples = 100_000, 2_000_000
	z := newZipf(n, s)
	r := newRNG(5)
	hits := make([]int, n)
	for range samples {
		hits[z.sample(&r)]++
	}
	var h float64
	for k := 1; k <= n; k++ {
		h += math.Pow(float64(k), -s)
	}
	for _, k := range []int{0, 1, 9, 99} {
		want := math.Pow(float64(k+1), -s) / h * samples
		if math.Abs(float64(hits[k])-want) > 5*math.Sqrt(want) {
			t.Errorf("rank %d: %d hits, want %.0f", k, hits[k], want)
		}
	}
	// Mass of rank ranges (bucketed part).
	for _, rg := range [][2]int{{1000, 2000}, {10000, 20000}, {50000, 100000}} {
		var want float64
		got := 0
		for k := rg[0]; k < rg[1]; k++ {
			want += math.Pow(float64(k+1), -s) / h * samples
			got += hits[k]
		}
		if math.Abs(float64(got)-want) > 5*math.Sqrt(want)+0.005*want {
			t.Errorf("ranks %v: %d hits, want %.0f", rg, got, want)
		}
	}
}

func TestPerm(t *testing.T) {
	for _, n := range []uint64{1, 2, 10, 97, 1000, 4096} {
		r := newRNG(n)
		p := newPerm(&r, n)
		seen := make([]bool, n)
		for k := range n {
			v := p.apply(k)
			if v >= n || seen[v] {
				t.Fatalf("n=%d: not a bijection", n)
			}
			seen[v] = true
		}
	}
}

func TestTimestamp(t *testing.T) {
	var c tsCache // zero: the first second formatted is the epoch's
	r := newRNG(3)
	for i := range 200_000 {
		ms := int64(r.intn(253_402_300_799_999))
		if i < 1000 {
			ms = Start2026 + int64(i)*37_000_123
		}
		if i == 0 {
			ms = 999
		}
		got := string(c.appendTS(nil, ms))
		want := time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
		if got != want {
			t.Fatalf("%d: %s, want %s", ms, got, want)
		}
	}
}

func TestLognormalMedian(t *testing.T) {
	ln := newLognormal(3000, 0.9, 1, 1e12)
	r := newRNG(1)
	below := 0
	for range 100_000 {
		if v := ln.sample(&r); v < 3000 {
			below++
		} else if v > 1e12 {
			t.Fatal("above the clamp")
		}
	}
	if below < 49_000 || below > 51_000 {
		t.Fatalf("median off: %d of 100000 below 3000", below)
	}
}

func TestConfig(t *testing.T) {
	for _, bad := range []Config{
		{Profile: "nope"},
		{Profile: Cashback, Partners: 3},
		{Profile: Payback, Members: -1},
		{Profile: Club, CommandsPerDay: -5},
		{Profile: Payback, Skew: -1},
		{Profile: Payback, Skew: 5},
	} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) accepted", bad)
		}
	}
	g := gen(t, Config{Profile: Payback})
	if got, want := g.Config(), DefaultConfig(Payback); got != want {
		t.Errorf("defaults: %+v, want %+v", got, want)
	}
}

func TestNoAllocs(t *testing.T) {
	for _, p := range Profiles {
		g := gen(t, Config{Profile: p, Seed: 1})
		buf := make([]byte, 0, 4096)
		for range 100_000 { // reach steady state: rings full
			buf = g.Next(buf[:0])
		}
		if a := testing.AllocsPerRun(10_000, func() { buf = g.Next(buf[:0]) }); a != 0 {
			t.Errorf("%s: %.2f allocs per command", p, a)
		}
	}
}

func BenchmarkNext(b *testing.B) {
	for _, p := range Profiles {
		b.Run(string(p), func(b *testing.B) {
			g := gen(b, Config{Profile: p, Seed: 1})
			buf := make([]byte, 0, 1<<16)
			var total int64
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				buf = g.Next(buf)
				if len(buf) > 1<<16-512 {
					total += int64(len(buf))
					buf = buf[:0]
				}
			}
			total += int64(len(buf))
			b.SetBytes(total / int64(max(b.N, 1)))
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cmds/s")
		})
	}
}
