package insight

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

func pctStr(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) }

// WriteText writes the KPIs as a human-readable report.
func (k *KPIs) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format, a...) }
	p("program\t%s (%s, %s)\n", k.Program, k.Unit, k.Currency)
	p("clock\t%s\n", k.Clock)
	p("commands\t%d observed, %d accepted, %d rejected, %d duplicates\n",
		k.Commands.Observed, k.Commands.Accepted, k.Commands.Rejected, k.Commands.Duplicates)
	if !k.Complete {
		p("note\tthe collector did not see the whole history: activity figures are partial\n")
	}
	p("\nMEMBERS\n")
	p("members\t%d\n", k.Members)
	p("buyers\t%d\n", k.Buyers)
	for _, a := range k.Active {
		p("active %dd\t%d\t%s\n", a.Days, a.Members, pctStr(a.Share))
	}
	p("churn (%dd)\t%d of %d\t%s\n", k.Churn.Days, k.Churn.Churned, k.Churn.Base, pctStr(k.Churn.Rate))

	p("\nPOINTS\n")
	pt := k.Points
	p("issued\t%d\n", pt.Issued)
	p("rewards\t%d\n", pt.Rewards)
	p("adjustments\t%d\n", pt.Adjustments)
	p("earned\t%d\n", pt.Earned)
	p("redeemed\t%d\tredemption rate %s\n", pt.Redeemed, pctStr(pt.RedemptionRate))
	p("breakage\t%d\tbreakage rate %s\n", pt.Breakage, pctStr(pt.BreakageRate))
	p("breakage due\t%d\t(expired at the clock, written by the next tick)\n", pt.BreakageDue)
	p("outstanding\t%d\n", pt.Outstanding)

	p("\nLIABILITY BY EXPIRY (point value %g minor)\n", k.PointValueMinor)
	p("month\tpoints\tof which pending\tmoney (minor)\n")
	for _, b := range k.Liability.ByExpiry {
		p("%s\t%d\t%d\t%d\n", b.Month, b.Points, b.Pending, b.MoneyMinor)
	}
	p("total\t%d\t%d\t%d\n", k.Liability.Points, k.Liability.Pending, k.Liability.MoneyMinor)

	p("\nTIERS\n")
	for _, t := range k.Tiers {
		p("%s\t%d\t%s\n", t.Tier, t.Members, pctStr(t.Share))
	}
	p("upgrades\t%d\n", k.Upgrades)
	p("downgrades\t%d\n", k.Downgrades)
	for _, m := range k.TierMoves {
		p("  %s → %s\t%d\n", m.From, m.To, m.Count)
	}

	p("\nSPEND PER BUYER (lifetime, minor units)\n")
	s := k.Spend
	p("buyers\t%d\n", s.Buyers)
	p("total\t%d\n", s.TotalMinor)
	p("mean\t%.0f\n", s.MeanMinor)
	p("median\t%d\n", s.MedianMinor)
	p("p90 / p99 / max\t%d / %d / %d\n", s.P90Minor, s.P99Minor, s.MaxMinor)
	p("purchases per buyer\t%.2f\n", s.MeanPurchases)

	p("\nPARTNERS\n")
	p("partner\tissued\tclawed back\tredeemed\treturned\tnet\tspend (minor)\n")
	for _, f := range k.Partners {
		p("%s\t%d\t%d\t%d\t%d\t%d\t%d\n", f.Partner, f.Issued, f.ClawedBack, f.Redeemed, f.Returned, f.Net, f.Spend)
	}

	k.writeRetail(p)

	p("\nRETENTION BY COHORT (share of the cohort active in month +n)\n")
	for _, c := range k.Retention {
		var b strings.Builder
		for i, r := range c.Retention {
			if i > 12 {
				b.WriteString(" …")
				break
			}
			fmt.Fprintf(&b, " %5.1f", 100*r)
		}
		p("%s\t%d\t%s\n", c.Month, c.Size, b.String())
	}

	p("\nMONTHLY\n")
	p("month\tearned\tclawed back\tredeemed\treturned\tbreakage\tadjusted\tactive buyers\tnew buyers\n")
	for _, m := range k.Monthly {
		p("%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", m.Month, m.Earned, m.ClawedBack, m.Redeemed, m.Returned,
			m.Breakage, m.Adjusted, m.Active, m.NewBuyers)
	}
	return tw.Flush()
}

// WriteText writes the simulation differences as a human-readable report.
func (d *Diff) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format, a...) }
	p("current:\t%s\t\t\t\n", d.Current)
	p("candidate:\t%s\t\t\t\n", d.Candidate)
	p("clock:\t%s\t\t\t\n", d.Clock)
	p("commands:\t%d\t\t\t\n", d.Commands)
	p("\t\t\t\t\n")
	p("figure\tcurrent\tcandidate\tdelta\t\n")
	row := func(name string, f Figure) { p("%s\t%d\t%d\t%+d\t\n", name, f.Current, f.Candidate, f.Delta) }
	row("accepted", d.Accepted)
	row("rejected", d.Rejected)
	row("members", d.Members)
	row("issued", d.Issued)
	row("rewards", d.Rewards)
	row("adjustments", d.Adjustments)
	row("redeemed", d.Redeemed)
	row("breakage", d.Breakage)
	row("liability (points)", d.Liability)
	row(fmt.Sprintf("liability (money, %g/pt)", d.PointValueMinor), d.LiabilityMoney)
	p("redemption rate\t%s\t%s\t%+.2fpp\t\n", pctStr(d.RedemptionRate.Current), pctStr(d.RedemptionRate.Candidate), 100*d.RedemptionRate.Delta)
	p("breakage rate\t%s\t%s\t%+.2fpp\t\n", pctStr(d.BreakageRate.Current), pctStr(d.BreakageRate.Candidate), 100*d.BreakageRate.Delta)
	p("commands status differ\t\t\t%d\t\n", d.StatusDiffer)
	p("commands points differ\t\t\t%d\t\n", d.PointsDiffer)
	p("members whose balance changes\t\t\t%d\t\n", d.MembersChanged)
	p("\t\t\t\t\n")
	p("tier\tcurrent\tcandidate\tdelta\t\n")
	for _, t := range d.Tiers {
		row(t.Tier, t.Figure)
	}
	p("\t\t\t\t\n")
	p("top members\tcurrent\tcandidate\tdelta\ttiers\n")
	for _, m := range d.TopMembers {
		p("%s\t%d\t%d\t%+d\t%s → %s\n", m.Member, m.Current, m.Candidate, m.Delta, orDash(m.TierCurrent), orDash(m.TierCandidate))
	}
	p("\t\t\t\t\n")
	p("partner\tissued Δ\tredeemed Δ\tnet Δ\tnet (candidate)\n")
	for _, pd := range d.Partners {
		p("%s\t%+d\t%+d\t%+d\t%d\n", pd.Partner, pd.Issued.Delta, pd.Redeemed.Delta, pd.Net.Delta, pd.Net.Candidate)
	}
	writeBudgetRuns(p, "current", d.BudgetsCurrent)
	writeBudgetRuns(p, "candidate", d.BudgetsCandidate)
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeRetail writes the budgets and the catalogue, when the program has
// them.
func (k *KPIs) writeRetail(p func(string, ...any)) {
	if len(k.Budgets) > 0 {
		p("\nCAMPAIGN BUDGETS\n")
		p("campaign\tbudget\tspent\tleft\n")
		for _, b := range k.Budgets {
			p("%s\t%d\t%d\t%d\n", b.Campaign, b.BudgetPoints, b.Spent, b.Left)
		}
	}
	if len(k.Catalogue) > 0 {
		p("\nREWARDS\n")
		p("reward\tpartner\tpoints\tstock\tclaimed\tleft\n")
		for _, r := range k.Catalogue {
			stock, left := "unlimited", "-"
			if r.Left != nil {
				stock, left = fmt.Sprint(r.Stock), fmt.Sprint(*r.Left)
			}
			p("%s\t%s\t%d\t%s\t%d\t%s\n", r.Reward, r.Partner, r.Points, stock, r.Claimed, left)
		}
	}
}

// writeBudgetRuns writes, for one program of a simulation, the day each
// budgeted campaign ran out.
func writeBudgetRuns(p func(string, ...any), which string, runs []BudgetRun) {
	if len(runs) == 0 {
		return
	}
	p("\t\t\t\t\n")
	p("budget (%s)\tbudget\tspent\tleft\t  runs out\n", which)
	for _, r := range runs {
		out := "not in this history"
		if r.RunsOutOn != "" {
			out = fmt.Sprintf("%s (day %d of the campaign)", r.RunsOutOn, r.CampaignDay)
		}
		p("%s\t%d\t%d\t%d\t  %s\n", r.Campaign, r.BudgetPoints, r.Spent, r.Left, out)
	}
}
