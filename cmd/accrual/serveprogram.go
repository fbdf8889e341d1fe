package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/accrual/accrual/engine"
)

// The program a node runs is replicated (raft/genesis.go): a new cluster
// takes it from the node that bootstraps it, every other node from the
// log. What serve picks here only seeds a bootstrapping node's engine, or
// stands in on a joining or restarting node until its log has been applied
// (the node is not ready before). --program is checked against the
// cluster's program, so an operator never believes a node runs rules it
// does not run.

// programPick is serve's choice of program.
type programPick struct {
	prog   *engine.Program // seeds the engine, or stands in until ready
	path   string          // --program, "" when not given
	flag   []byte          // its source
	stored []byte          // DATA/program.yaml from an earlier start, nil on the first
}

// serveProgram picks the program: on a first start that bootstraps,
// --program or else the demo; on a first start that joins, the cluster's
// (read from the node joined through; a --program that differs is
// refused); on a restart, the one stored in the data directory by the
// first start. The choice of a first start is stored.
func serveProgram(f serveFlags) (programPick, error) {
	pick := programPick{path: f.programPath}
	stored := filepath.Join(f.dataDir, "program.yaml")
	var err error
	if pick.stored, err = os.ReadFile(stored); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return pick, err
	}
	if pick.path != "" {
		if pick.flag, err = os.ReadFile(pick.path); err != nil {
			return pick, err
		}
	}
	src := pick.stored
	switch {
	case src == nil && f.join != "":
		if src, err = clusterProgram(f); err != nil {
			return pick, err
		}
		if pick.flag != nil && !bytes.Equal(pick.flag, src) {
			return pick, programMismatch(pick.path, pick.flag, src, "the cluster joined through "+f.join)
		}
	case src == nil && pick.flag != nil:
		src = pick.flag
	case src == nil:
		src = demoProgram
	}
	if pick.prog, err = engine.ParseProgram(src); err != nil {
		if pick.path != "" {
			return pick, fmt.Errorf("%s: %w", pick.path, err)
		}
		return pick, err
	}
	if pick.stored == nil {
		if err := os.WriteFile(stored, src, 0o600); err != nil {
			return pick, err
		}
	}
	return pick, nil
}

// check refuses a --program that is neither the program this node was
// first started with nor the cluster's program in force (inForce, the
// replicated one, read once the node is ready).
func (p programPick) check(inForce *engine.Program) error {
	if p.flag == nil || bytes.Equal(p.flag, inForce.Source) || p.stored != nil && bytes.Equal(p.flag, p.stored) {
		return nil
	}
	return programMismatch(p.path, p.flag, inForce.Source, "the cluster")
}

// programMismatch is the refusal of a --program that is not the cluster's.
func programMismatch(path string, flag, cluster []byte, whose string) error {
	return fmt.Errorf("serve: --program %s (program %q) differs from the program of %s (program %q): "+
		"every node runs the cluster's program, replicated through its log; start without --program to take it, "+
		"or change the cluster's program with PUT /v1/program", path, programID(flag), whose, programID(cluster))
}

// programID names a program source by its id, or says it has none.
func programID(src []byte) string {
	p, err := engine.ParseProgram(src)
	if err != nil {
		return "(invalid)"
	}
	return p.ID
}

// clusterProgram reads the program in force from the node joined through
// (GET /v1/program, any node answers once it is ready), retrying while it
// starts.
func clusterProgram(f serveFlags) ([]byte, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	var last error
	for range 30 {
		req, _ := http.NewRequest("GET", httpURL(f.join)+"/v1/program", nil)
		req.Header.Set("Authorization", "Bearer "+joinKey(f))
		resp, err := client.Do(req)
		if err == nil {
			body, rerr := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
			resp.Body.Close()
			switch {
			case rerr != nil:
				err = rerr
			case resp.StatusCode == http.StatusOK:
				return body, nil
			default:
				err = fmt.Errorf("serve: read the cluster's program from %s: %d %s", f.join, resp.StatusCode, bytes.TrimSpace(body))
				if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
					return nil, err
				}
			}
		}
		last = err
		time.Sleep(time.Second)
	}
	return nil, last
}
