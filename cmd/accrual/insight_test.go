package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accrual/accrual/apply"
	"github.com/accrual/accrual/bench/workload"
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/insight"
)

// history is one program and command stream to test on.
type history struct {
	name   string
	prog   *engine.Program
	stream []byte
}

func conformanceHistories(t testing.TB) []history {
	dir := filepath.Join("..", "..", "testdata", "conformance")
	var hs []history
	for _, name := range []string{"coalition", "cashback", "airline", "club"} {
		prog, err := loadProgram(filepath.Join(dir, name+".program.json"))
		if err != nil {
			t.Fatal(err)
		}
		stream, err := os.ReadFile(filepath.Join(dir, name+".ndjson"))
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, history{name, prog, stream})
	}
	return hs
}

// workloadHistory generates n commands of a workload profile in-process.
func workloadHistory(t testing.TB, profile workload.Profile, members, n int) history {
	return configHistory(t, workload.Config{Profile: profile, Seed: 1, Members: members}, n)
}

// configHistory generates n commands of a workload configuration.
func configHistory(t testing.TB, cfg workload.Config, n int) history {
	profile := cfg.Profile
	g, err := workload.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := engine.ParseProgram(g.Program())
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, n*160)
	for range n {
		buf = g.Next(buf)
		if buf[len(buf)-1] != '\n' {
			buf = append(buf, '\n')
		}
	}
	return history{string(profile), prog, buf}
}

// plainReplay runs the replay command's code and returns results and dump.
func plainReplay(t testing.TB, prog *engine.Program, stream []byte) (results, dump []byte) {
	eng := engine.New(prog)
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	if err := replay(apply.New(eng), bytes.NewReader(stream), w, nil); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	return out.Bytes(), dumpOf(eng)
}

func dumpOf(eng *engine.Engine) []byte {
	var d []byte
	_ = eng.Dump(func(v *engine.MemberView) error {
		d = engine.AppendDumpJSON(d, v)
		d = append(d, '\n')
		return nil
	})
	return d
}

func testHistories(t *testing.T) []history {
	hs := conformanceHistories(t)
	n := 200_000
	if testing.Short() {
		n = 30_000
	}
	for _, p := range workload.Profiles {
		hs = append(hs, workloadHistory(t, p, 20_000, n))
	}
	return hs
}

// TestSimulateIdentity: with candidate = current, every difference is 0,
// and each engine's results and dump equal a plain replay's.
func TestSimulateIdentity(t *testing.T) {
	for _, h := range testHistories(t) {
		t.Run(h.name, func(t *testing.T) {
			wantResults, wantDump := plainReplay(t, h.prog, h.stream)
			sim := insight.NewSim(h.prog, h.prog)
			var gotA, gotB []byte
			err := apply.ReadBatches(bytes.NewReader(h.stream), func(cmds []engine.Command) error {
				sim.Apply(cmds)
				a, b := sim.Engines()
				ra, rb := sim.Results()
				for i := range ra {
					gotA = append(a.AppendJSON(gotA, &ra[i]), '\n')
					gotB = append(b.AppendJSON(gotB, &rb[i]), '\n')
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gotA, wantResults) || !bytes.Equal(gotB, wantResults) {
				t.Fatal("simulated results differ from a plain replay's")
			}
			a, b := sim.Engines()
			if !bytes.Equal(dumpOf(a), wantDump) || !bytes.Equal(dumpOf(b), wantDump) {
				t.Fatal("simulated dump differs from a plain replay's")
			}
			d := sim.Report(20, 1)
			if !d.Zero() {
				js, _ := json.MarshalIndent(d, "", " ")
				t.Fatalf("identity simulation reports differences:\n%s", js)
			}
			if d.Members.Current == 0 || d.Issued.Current == 0 {
				t.Fatalf("empty simulation: %+v", d)
			}
		})
	}
}

// TestSimulateCandidate: a candidate that doubles the base rate issues more,
// and the per-member and per-partner figures add up to the totals.
func TestSimulateCandidate(t *testing.T) {
	h := workloadHistory(t, workload.Payback, 5_000, 50_000)
	src := strings.Replace(string(h.prog.Source), "rate: {points: 1, per: 200}", "rate: {points: 1, per: 100}", 1)
	if src == string(h.prog.Source) {
		t.Fatal("program has no base rate to change")
	}
	cand, err := engine.ParseProgram([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	sim, err := simulate(h.prog, cand, bytes.NewReader(h.stream))
	if err != nil {
		t.Fatal(err)
	}
	d := sim.Report(20, 0.5)
	if d.Issued.Delta <= 0 || d.Liability.Delta <= 0 || d.PointsDiffer == 0 {
		t.Fatalf("doubling the rate issued no more: %+v", d)
	}
	if len(d.TopMembers) != 20 || d.MembersChanged < 20 {
		t.Fatalf("top members: %d listed, %d changed", len(d.TopMembers), d.MembersChanged)
	}
	for i := 1; i < len(d.TopMembers); i++ {
		if abs64(d.TopMembers[i].Delta) > abs64(d.TopMembers[i-1].Delta) {
			t.Fatal("top members not sorted by |delta|")
		}
	}
	var issued, net int64
	for _, p := range d.Partners {
		issued += p.Issued.Delta
		net += p.Net.Delta
	}
	if issued != d.Issued.Delta {
		t.Fatalf("partner issued deltas sum to %d, total delta %d", issued, d.Issued.Delta)
	}
	var tiersA, tiersB int64
	for _, tr := range d.Tiers {
		tiersA += tr.Current
		tiersB += tr.Candidate
	}
	if tiersA != d.Members.Current || tiersB != d.Members.Candidate {
		t.Fatal("tier counts do not add up to the members")
	}
	var text bytes.Buffer
	if err := d.WriteText(&text); err != nil || !strings.Contains(text.String(), "liability") {
		t.Fatalf("text report: %v\n%s", err, text.String())
	}
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// TestReportKPIsAddUp: the KPIs of a replay agree with the dump and the
// engine totals.
func TestReportKPIsAddUp(t *testing.T) {
	for _, h := range testHistories(t) {
		t.Run(h.name, func(t *testing.T) {
			k, err := reportKPIs(h.prog, bytes.NewReader(h.stream), insight.Options{PointValueMinor: 1})
			if err != nil {
				t.Fatal(err)
			}
			_, dump := plainReplay(t, h.prog, h.stream)
			var members, balance, avail, pending, held int64
			tiers := map[string]int{}
			for _, line := range bytes.Split(bytes.TrimSpace(dump), []byte("\n")) {
				var v struct {
					Available, Pending, Held int64
					Tier                     string
				}
				if err := json.Unmarshal(line, &v); err != nil {
					t.Fatal(err)
				}
				members++
				balance += v.Available + v.Pending + v.Held
				avail += v.Available
				pending += v.Pending
				held += v.Held
				tiers[v.Tier]++
			}
			if int64(k.Members) != members {
				t.Fatalf("members %d, dump %d", k.Members, members)
			}
			if k.Points.LedgerOutstanding-k.Points.BreakageDue != balance {
				t.Fatal("ledger outstanding - breakage due != dump balance")
			}
			if k.Liability.Points != balance || k.Points.Outstanding != balance || k.Liability.MoneyMinor != balance {
				t.Fatalf("liability %d / outstanding %d / money %d, dump balance %d",
					k.Liability.Points, k.Points.Outstanding, k.Liability.MoneyMinor, balance)
			}
			if k.Liability.Available != avail || k.Liability.Pending != pending || k.Liability.Held != held {
				t.Fatal("liability split differs from the dump")
			}
			for _, tc := range k.Tiers {
				if tiers[tc.Tier] != tc.Members {
					t.Fatalf("tier %s: %d, dump %d", tc.Tier, tc.Members, tiers[tc.Tier])
				}
			}
			var issued, redeemed, cohort int64
			for _, p := range k.Partners {
				issued += p.Issued - p.ClawedBack
				redeemed += p.Redeemed - p.Returned
				if p.Net != p.Issued-p.ClawedBack-p.Redeemed+p.Returned {
					t.Fatal("partner net")
				}
			}
			if issued != k.Points.Issued || redeemed != k.Points.Redeemed {
				t.Fatalf("partners issued %d redeemed %d, totals %d %d", issued, redeemed, k.Points.Issued, k.Points.Redeemed)
			}
			for _, c := range k.Retention {
				cohort += c.Size
				if c.Retention[0] != 1 {
					t.Fatal("cohort month retention is not 1")
				}
			}
			if cohort != int64(k.Buyers) || k.Spend.Buyers != k.Buyers {
				t.Fatalf("cohorts sum to %d, buyers %d", cohort, k.Buyers)
			}
			var breakage int64
			for _, m := range k.Monthly {
				breakage += m.Breakage
			}
			if breakage != k.Points.Breakage-k.Points.BreakageDue {
				t.Fatalf("monthly breakage %d, total %d", breakage, k.Points.Breakage)
			}
			for i := 1; i < len(k.Active); i++ {
				if k.Active[i].Members < k.Active[i-1].Members {
					t.Fatal("active windows not monotonic")
				}
			}
			var text bytes.Buffer
			if err := k.WriteText(&text); err != nil {
				t.Fatal(err)
			}
		})
	}
}

var (
	benchOnce sync.Once
	benchHist history
)

// BenchmarkSimulatePayback1M: replay vs simulate on 1M commands of the
// payback workload (generated in-process). Reports commands per second.
func BenchmarkSimulatePayback1M(b *testing.B) {
	benchOnce.Do(func() { benchHist = workloadHistory(b, workload.Payback, 200_000, 1_000_000) })
	h := benchHist
	b.Run("replay", func(b *testing.B) {
		for b.Loop() {
			eng := engine.New(h.prog)
			w := bufio.NewWriterSize(discard{}, 1<<20)
			start := time.Now()
			if err := replay(apply.New(eng), bytes.NewReader(h.stream), w, nil); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(1e6/time.Since(start).Seconds(), "cmds/s")
		}
	})
	b.Run("simulate", func(b *testing.B) {
		for b.Loop() {
			start := time.Now()
			sim, err := simulate(h.prog, h.prog, bytes.NewReader(h.stream))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(1e6/time.Since(start).Seconds(), "cmds/s")
			sim.Report(20, 1)
			b.ReportMetric(1e6/time.Since(start).Seconds(), "cmds/s-with-report")
		}
	})
	b.Run("report", func(b *testing.B) {
		for b.Loop() {
			start := time.Now()
			if _, err := reportKPIs(h.prog, bytes.NewReader(h.stream), insight.Options{PointValueMinor: 1}); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(1e6/time.Since(start).Seconds(), "cmds/s")
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestSimulateBudgetRunsOut: on a generated payback history, the
// candidate's budget for a launch campaign runs out on a day, a larger
// budget later, and one beyond the history's spend not at all.
func TestSimulateBudgetRunsOut(t *testing.T) {
	// 60 000 commands at 1000 a day: January and February.
	h := configHistory(t, workload.Config{Profile: workload.Payback, Seed: 1, Members: 5_000, CommandsPerDay: 1000}, 60_000)
	cur := strings.Replace(string(h.prog.Source), "bonus_points: 20\n    budget_points: 200000000\n", "bonus_points: 20\n", 1)
	if cur == string(h.prog.Source) {
		t.Fatal("payback program has no budgeted app-launch campaign")
	}
	current, err := engine.ParseProgram([]byte(cur))
	if err != nil {
		t.Fatal(err)
	}
	var days []string
	for _, budget := range []string{"200000", "400000", "900000000"} {
		src := strings.Replace(string(h.prog.Source), "budget_points: 200000000", "budget_points: "+budget, 1)
		cand, err := engine.ParseProgram([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		sim, err := simulate(current, cand, bytes.NewReader(h.stream))
		if err != nil {
			t.Fatal(err)
		}
		d := sim.Report(5, 1)
		if len(d.BudgetsCurrent) != 0 || len(d.BudgetsCandidate) != 1 || d.BudgetsCandidate[0].Campaign != "app-launch" {
			t.Fatalf("budgets: current %+v, candidate %+v", d.BudgetsCurrent, d.BudgetsCandidate)
		}
		days = append(days, d.BudgetsCandidate[0].RunsOutOn)
		t.Logf("budget %s: %+v", budget, d.BudgetsCandidate[0])
	}
	if days[0] == "" || days[1] == "" || days[0] >= days[1] || days[2] != "" {
		t.Fatalf("run-out days for budgets 200k, 400k, 900M: %q; want two days, the first earlier, then none", days)
	}
}
