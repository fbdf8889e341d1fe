package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is one target's measured run, as it appears in the report.
type Result struct {
	Target       string      `json:"target"`
	Mode         string      `json:"mode"` // closed | open
	Profile      string      `json:"profile"`
	Seed         uint64      `json:"seed"`
	Members      int         `json:"members"`
	Count        int64       `json:"count"`
	Clients      int         `json:"clients"`
	Batch        int         `json:"batch"`
	RateTarget   float64     `json:"rate_target,omitempty"`
	ElapsedS     float64     `json:"elapsed_s"`
	Throughput   float64     `json:"throughput_cmd_per_s"` // completed commands / elapsed
	Totals       Totals      `json:"totals"`
	Resources    Resources   `json:"resources"`
	Series       []Sample    `json:"series"`
	Validation   *Validation `json:"validation,omitempty"`
	TargetDetail any         `json:"target_detail,omitempty"`
}

// Report is what `--json FILE` holds.
type Report struct {
	Machine Machine  `json:"machine"`
	Command string   `json:"command"`
	Results []Result `json:"results"`
	Ratio   *Ratio   `json:"ratio,omitempty"`
}

// Ratio compares the first result with a peer (results[0] / results[1]).
type Ratio struct {
	Peer       string  `json:"peer"`
	Throughput float64 `json:"throughput"` // accrual / peer: > 1 means accrual is faster
	P99        float64 `json:"p99"`        // peer / accrual: > 1 means accrual's p99 is lower
	CPU        float64 `json:"cpu_per_command"`
}

// NewResult turns a run's outcome into a report entry.
func NewResult(o *Outcome, cfg RunConfig) Result {
	cfg.defaults()
	r := Result{Target: o.Target, Mode: o.Mode, Profile: string(cfg.Workload.Profile), Seed: cfg.Workload.Seed,
		Members: cfg.Workload.Members, Count: cfg.Count, Clients: cfg.Clients, Batch: cfg.Batch, RateTarget: cfg.Rate,
		ElapsedS: o.Elapsed.Seconds(), Totals: o.Totals, Resources: o.Resource, Series: o.Series}
	if o.Elapsed > 0 {
		r.Throughput = float64(o.Totals.Commands) / o.Elapsed.Seconds()
	}
	return r
}

func (r *Result) cpuSeconds() float64 {
	c := r.Resources.SelfCPUSeconds
	for _, p := range r.Resources.Target {
		c += p.CPUSeconds
	}
	return c
}

// ComputeRatio fills rep.Ratio when there are two results.
func (rep *Report) ComputeRatio() {
	if len(rep.Results) < 2 {
		return
	}
	a, b := &rep.Results[0], &rep.Results[1]
	q := &Ratio{Peer: b.Target}
	if b.Throughput > 0 {
		q.Throughput = a.Throughput / b.Throughput
	}
	if a.Totals.Latency.P99 > 0 {
		q.P99 = b.Totals.Latency.P99 / a.Totals.Latency.P99
	}
	if a.Totals.Commands > 0 && b.Totals.Commands > 0 && a.cpuSeconds() > 0 {
		q.CPU = (b.cpuSeconds() / float64(b.Totals.Commands)) / (a.cpuSeconds() / float64(a.Totals.Commands))
	}
	rep.Ratio = q
}

// WriteJSON writes the report to path.
func (rep *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// WriteTable prints the final table: one column per result, and a ratio
// column when there are two.
func (rep *Report) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(label string, f func(r *Result) string, ratio string) {
		fmt.Fprintf(tw, "%s\t", label)
		for i := range rep.Results {
			fmt.Fprintf(tw, "%s\t", f(&rep.Results[i]))
		}
		if rep.Ratio != nil {
			fmt.Fprintf(tw, "%s\t", ratio)
		}
		fmt.Fprintln(tw)
	}
	ms := func(v float64) string { return fmt.Sprintf("%.3f ms", v) }
	hdr := ""
	if rep.Ratio != nil {
		hdr = "ratio"
	}
	row("", func(r *Result) string { return r.Target }, hdr)
	row("mode", func(r *Result) string {
		if r.Mode == "open" {
			return fmt.Sprintf("open %.0f/s", r.RateTarget)
		}
		return fmt.Sprintf("closed ×%d", r.Clients)
	}, "")
	row("batch", func(r *Result) string { return fmt.Sprint(r.Batch) }, "")
	row("commands", func(r *Result) string { return fmt.Sprint(r.Totals.Commands) }, "")
	row("elapsed", func(r *Result) string {
		return (time.Duration(r.ElapsedS * float64(time.Second))).Round(time.Millisecond).String()
	}, "")
	var thr, p99, cpu string
	if q := rep.Ratio; q != nil {
		thr = fmt.Sprintf("%.2f×", q.Throughput)
		p99 = fmt.Sprintf("%.2f×", q.P99)
		cpu = fmt.Sprintf("%.2f×", q.CPU)
	}
	row("throughput", func(r *Result) string { return fmt.Sprintf("%.0f cmd/s", r.Throughput) }, thr)
	row("latency p50", func(r *Result) string { return ms(r.Totals.Latency.P50) }, "")
	row("latency p90", func(r *Result) string { return ms(r.Totals.Latency.P90) }, "")
	row("latency p99", func(r *Result) string { return ms(r.Totals.Latency.P99) }, p99)
	row("latency p99.9", func(r *Result) string { return ms(r.Totals.Latency.P999) }, "")
	row("latency max", func(r *Result) string { return ms(r.Totals.Latency.Max) }, "")
	row("ok", func(r *Result) string { return fmt.Sprint(r.Totals.OK) }, "")
	row("rejected", func(r *Result) string { return fmt.Sprint(r.Totals.Rejected) }, "")
	row("failed batches' cmds", func(r *Result) string { return fmt.Sprint(r.Totals.Failed) }, "")
	row("late", func(r *Result) string { return fmt.Sprint(r.Totals.Late) }, "")
	row("dropped", func(r *Result) string { return fmt.Sprint(r.Totals.Dropped) }, "")
	codes := map[string]bool{}
	var order []string
	for i := range rep.Results {
		for _, c := range sortedCodes(rep.Results[i].Totals.Errors) {
			if !codes[c] {
				codes[c] = true
				order = append(order, c)
			}
		}
	}
	for _, c := range order {
		row("  error "+c, func(r *Result) string { return fmt.Sprint(r.Totals.Errors[c]) }, "")
	}
	row("CPU (this process)", func(r *Result) string { return fmt.Sprintf("%.1f s", r.Resources.SelfCPUSeconds) }, "")
	row("peak RSS (this process)", func(r *Result) string { return fmt.Sprintf("%.0f MB", r.Resources.SelfPeakRSSMB) }, "")
	row("CPU (target processes)", func(r *Result) string { return procCPU(r.Resources.Target) }, "")
	row("peak RSS (target procs)", func(r *Result) string { return procRSS(r.Resources.Target) }, "")
	row("CPU µs/command (all)", func(r *Result) string {
		if r.Totals.Commands == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f", r.cpuSeconds()/float64(r.Totals.Commands)*1e6)
	}, cpu)
	row("validate", func(r *Result) string {
		if r.Validation == nil {
			return "-"
		}
		if r.Validation.OK {
			return fmt.Sprintf("ok (%d members)", r.Validation.Checked)
		}
		return fmt.Sprintf("FAILED %d/%d", r.Validation.Mismatches, r.Validation.Checked)
	}, "")
	tw.Flush()
	for i := range rep.Results {
		if v := rep.Results[i].Validation; v != nil && !v.OK {
			fmt.Fprintf(w, "%s validation mismatches:\n  %s\n", rep.Results[i].Target, strings.Join(v.Examples, "\n  "))
		}
	}
}

func procCPU(ps []ProcUsage) string {
	if len(ps) == 0 {
		return "-"
	}
	var c float64
	for _, p := range ps {
		c += p.CPUSeconds
	}
	return fmt.Sprintf("%.1f s (%d procs)", c, len(ps))
}

// procRSS sums the peak RSS of the processes (shared memory counted once per process).
func procRSS(ps []ProcUsage) string {
	if len(ps) == 0 {
		return "-"
	}
	var m, top float64
	for _, p := range ps {
		m += p.PeakRSSMB
		top = max(top, p.PeakRSSMB)
	}
	return fmt.Sprintf("%.0f MB sum, %.0f MB max", m, top)
}
