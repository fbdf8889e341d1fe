package main

import (
	"bufio"
	"errors"
	"flag"
	"io"
	"os"

	"github.com/accrual/accrual/apply"
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/insight"
)

func cmdSimulate(args []string) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	currentPath := fs.String("program", "", "current program file (YAML or JSON)")
	candidatePath := fs.String("candidate", "", "candidate program file")
	asJSON := fs.Bool("json", false, "write the differences as one JSON document")
	top := fs.Int("top", 20, "list this many members whose balance changes most")
	pv := pointValueFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *currentPath == "" || *candidatePath == "" {
		return errors.New("simulate: --program and --candidate are required")
	}
	cur, err := loadProgram(*currentPath)
	if err != nil {
		return err
	}
	cand, err := loadProgram(*candidatePath)
	if err != nil {
		return err
	}
	sim, err := simulate(cur, cand, os.Stdin)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	if err := writeReport(out, sim.Report(*top, pointValue(*pv, cur)), *asJSON); err != nil {
		return err
	}
	return out.Flush()
}

// simulate replays a history under both programs at once.
func simulate(cur, cand *engine.Program, in io.Reader) (*insight.Sim, error) {
	sim := insight.NewSim(cur, cand)
	err := apply.ReadBatches(in, func(cmds []engine.Command) error {
		sim.Apply(cmds)
		return nil
	})
	return sim, err
}
