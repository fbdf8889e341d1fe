package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/accrual/accrual/chaos"
)

// cmdChaos runs `accrual chaos`: a local cluster of `accrual serve`
// processes (this binary) under a seeded workload and seeded faults, then
// the checks of package chaos; non-zero exit when any check fails.
func cmdChaos(args []string) error {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	dur := fs.Duration("duration", time.Minute, "how long to inject faults under client traffic")
	seed := fs.Uint64("seed", 0, "seed of the workload and of the fault schedule (default: from the clock; printed)")
	nodes := fs.Int("nodes", 3, "cluster size")
	dir := fs.String("dir", "", "working directory for node data and logs (default: a new temporary directory, removed on success)")
	members := fs.Int("members", 200, "workload members")
	clients := fs.Int("clients", 4, "concurrent workload clients")
	recordsInMemory := fs.Int("records-in-memory", 1024, "each node's --records-in-memory (small: retries and refunds read evicted records back)")
	minGap := fs.Duration("min-gap", time.Second, "shortest pause between two faults")
	maxGap := fs.Duration("max-gap", 4*time.Second, "longest pause between two faults")
	quiet := fs.Bool("quiet", false, "print only the report")
	useTLS := fs.Bool("tls", false, "run the cluster with HTTPS and mutual TLS on the Raft transport (a throwaway CA)")
	kindList := fs.String("kinds", "", "fault kinds drawn from, comma-separated, or all (default: all but corrupt and wipe)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	kinds, err := parseChaosKinds(*kindList)
	if err != nil {
		return err
	}
	if *nodes < 3 {
		return errors.New("chaos: --nodes must be at least 3 (faults take one node down at a time)")
	}
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	keep := *dir != ""
	if !keep {
		if *dir, err = os.MkdirTemp("", "accrual-chaos-"); err != nil {
			return err
		}
	}
	if *dir, err = filepath.Abs(*dir); err != nil {
		return err
	}
	fmt.Printf("accrual chaos: seed %d, %d nodes, %s (repeat: accrual chaos --seed %d --duration %s --nodes %d --members %d --clients %d --records-in-memory %d --min-gap %s --max-gap %s --tls=%t --kinds=%s), dir %s\n",
		*seed, *nodes, *dur, *seed, *dur, *nodes, *members, *clients, *recordsInMemory, *minGap, *maxGap, *useTLS, *kindList, *dir)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := chaos.Config{
		Binary: exe, Env: []string{"ACCRUAL_TEST_MAIN=1"}, // lets a test binary stand in for accrual
		Dir: *dir, Duration: *dur, Seed: *seed, Nodes: *nodes, Members: *members, Clients: *clients,
		RecordsInMemory: *recordsInMemory, MinGap: *minGap, MaxGap: *maxGap, TLS: *useTLS, Kinds: kinds, Log: os.Stderr,
	}
	if *quiet {
		cfg.Log = nil
	}
	rep, err := chaos.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("chaos: %w (node logs in %s)", err, *dir)
	}
	fmt.Print(rep.String())
	if !rep.OK() {
		return fmt.Errorf("chaos: FAILED with seed %d (node logs in %s)", *seed, *dir)
	}
	if !keep {
		_ = os.RemoveAll(*dir)
	}
	return nil
}

// parseChaosKinds reads --kinds: empty for the default kinds, "all", or
// names from chaos.AllKinds.
func parseChaosKinds(list string) ([]string, error) {
	switch list {
	case "":
		return nil, nil
	case "all":
		return chaos.AllKinds, nil
	}
	var kinds []string
	for _, k := range strings.Split(list, ",") {
		if !slices.Contains(chaos.AllKinds, k) {
			return nil, fmt.Errorf("chaos: --kinds: unknown fault kind %q (kinds: %s, or all)", k, strings.Join(chaos.AllKinds, ","))
		}
		kinds = append(kinds, k)
	}
	return kinds, nil
}
