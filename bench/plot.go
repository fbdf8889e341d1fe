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
