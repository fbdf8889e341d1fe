package bench

import (
	"fmt"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// WritePlots writes throughput.png and latency.png (one line per result)
// into dir.
func WritePlots(dir string, results []Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	thr := plot.New()
	thr.Title.Text = "Throughput"
	thr.X.Label.Text = "time (s)"
	thr.Y.Label.Text = "commands/s"
	thr.Legend.Top = true
	lat := plot.New()
	lat.Title.Text = "Latency percentiles (per interval)"
	lat.X.Label.Text = "time (s)"
	lat.Y.Label.Text = "ms"
	lat.Legend.Top = true
	var thrLines, latLines []any
	for _, r := range results {
		pts := func(f func(s Sample) float64) plotter.XYs {
			xy := make(plotter.XYs, 0, len(r.Series))
			for _, s := range r.Series {
				if s.Commands == 0 && f(s) == 0 {
					continue
				}
				xy = append(xy, plotter.XY{X: s.T, Y: f(s)})
			}
			return xy
		}
		thrLines = append(thrLines, r.Target, pts(func(s Sample) float64 { return s.Rate }))
		latLines = append(latLines,
			r.Target+" p50", pts(func(s Sample) float64 { return s.P50 }),
			r.Target+" p99", pts(func(s Sample) float64 { return s.P99 }),
			r.Target+" p99.9", pts(func(s Sample) float64 { return s.P999 }))
	}
	if err := plotutil.AddLinePoints(thr, thrLines...); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if err := plotutil.AddLinePoints(lat, latLines...); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if err := thr.Save(8*vg.Inch, 4*vg.Inch, filepath.Join(dir, "throughput.png")); err != nil {
		return err
	}
	return lat.Save(8*vg.Inch, 4*vg.Inch, filepath.Join(dir, "latency.png"))
}

// WriteScalePlots writes a scale run's growth curves into dir, each over
// the commands applied: memory.png (live heap and RSS), disk.png (the
// ledger directory) and throughput.png (commands/s between samples).
func WriteScalePlots(dir string, samples []ScaleSample) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pts := func(f func(s ScaleSample) float64) plotter.XYs {
		xy := make(plotter.XYs, 0, len(samples))
		for _, s := range samples {
			xy = append(xy, plotter.XY{X: float64(s.Commands) / 1e6, Y: f(s)})
		}
		return xy
	}
	mb := func(b float64) float64 { return b / (1 << 20) }
	charts := []struct {
		file, title, unit string
		lines             []any
	}{
		{"memory.png", "Memory", "MB", []any{
			"live heap", pts(func(s ScaleSample) float64 { return mb(float64(s.HeapBytes)) }),
			"RSS", pts(func(s ScaleSample) float64 { return mb(float64(s.RSSBytes)) })}},
		{"disk.png", "Ledger directory", "MB", []any{
			"disk", pts(func(s ScaleSample) float64 { return mb(float64(s.DiskBytes)) })}},
		{"throughput.png", "Throughput (between samples)", "commands/s", []any{
			"commands/s", pts(func(s ScaleSample) float64 { return s.CommandsPerS })}},
	}
	for _, c := range charts {
		p := plot.New()
		p.Title.Text = c.title
		p.X.Label.Text = "commands (millions)"
		p.Y.Label.Text = c.unit
		p.X.Min, p.Y.Min = 0, 0
		p.Legend.Top = false // bottom right: the curves start at the left and rise
		if err := plotutil.AddLinePoints(p, c.lines...); err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		if err := p.Save(8*vg.Inch, 4*vg.Inch, filepath.Join(dir, c.file)); err != nil {
			return err
		}
	}
	return nil
}
