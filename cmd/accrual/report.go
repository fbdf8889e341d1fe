package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/accrual/accrual/apply"
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/insight"
)

// pointValueFlag registers --point-value-minor: the money value of one point
// in minor currency units (a decimal, e.g. 1 or 0.5).
func pointValueFlag(fs *flag.FlagSet) *float64 {
	v := new(float64)
	fs.Func("point-value-minor", "money value of one point in minor currency units (e.g. 1 or 0.5); default 1 for unit money, else 0", func(s string) error {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || f < 0 || f > 1e9 {
			return errors.New("must be a number from 0 to 1e9")
		}
		*v = f
		return nil
	})
	*v = -1
	return v
}

func pointValue(v float64, p *engine.Program) float64 {
	if v >= 0 {
		return v
	}
	if p.Unit == "money" {
		return 1
	}
	return 0
}

func cmdReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	programPath := fs.String("program", "", "program file (YAML or JSON)")
	asJSON := fs.Bool("json", false, "write the KPIs as one JSON document")
	pv := pointValueFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *programPath == "" {
		return errors.New("report: --program is required")
	}
	prog, err := loadProgram(*programPath)
	if err != nil {
		return err
	}
	k, err := reportKPIs(prog, os.Stdin, insight.Options{PointValueMinor: pointValue(*pv, prog)})
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	if err := writeReport(out, k, *asJSON); err != nil {
		return err
	}
	return out.Flush()
}

// reportKPIs replays a history and reports its KPIs.
func reportKPIs(prog *engine.Program, in io.Reader, opt insight.Options) (*insight.KPIs, error) {
	step := apply.New(engine.New(prog))
	col := insight.NewCollector(prog)
	err := apply.ReadBatches(in, func(cmds []engine.Command) error {
		results, entries := step.Apply(cmds)
		col.Observe(cmds, results, entries)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return insight.Compute(col, step.Engine(), opt), nil
}

type textWriter interface{ WriteText(io.Writer) error }

func writeReport(w io.Writer, v textWriter, asJSON bool) error {
	if !asJSON {
		return v.WriteText(w)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	return nil
}
