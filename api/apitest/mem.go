package apitest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/accrual/accrual/api"
	"github.com/accrual/accrual/apply"
	"github.com/accrual/accrual/engine"
)

// Mem applies commands to one engine under a mutex.
type Mem struct {
	mu      sync.Mutex
	prog    *engine.Program
	eng     *engine.Engine
	applied uint64
	step    *apply.Step // over eng, made by the first Submit
	// ledger, kept when KeepEntries is set
	keep    bool
	ledger  []engine.Entry
	owners  [][2]string // debit, credit owner of each ledger entry
	byCmd   map[string][]int
	wrote   chan struct{} // closed (and replaced) when Submit keeps entries
	err     error
	delay   time.Duration
	submits int
	cmds    int
}

// New returns a backend for a program. keepEntries keeps the ledger for
// the statement, command and settlement reads.
func New(p *engine.Program, keepEntries bool) *Mem {
	return &Mem{prog: p, eng: engine.New(p), keep: keepEntries, byCmd: map[string][]int{}, wrote: make(chan struct{})}
}

// MustProgram parses a program or panics.
func MustProgram(src string) *engine.Program {
	p, err := engine.ParseProgram([]byte(src))
	if err != nil {
		panic(err)
	}
	return p
}

// SetErr makes every later call fail with err (nil: succeed again).
func (m *Mem) SetErr(err error) { m.mu.Lock(); m.err = err; m.mu.Unlock() }

// SetDelay makes Submit sleep (before taking the lock).
func (m *Mem) SetDelay(d time.Duration) { m.mu.Lock(); m.delay = d; m.mu.Unlock() }

// Counts returns the Submit calls and the commands submitted so far.
func (m *Mem) Counts() (submits, cmds int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.submits, m.cmds
}

// NotLeader is an error naming the leader, as the Raft node returns it.
type NotLeader struct{ Leader string }

func (e NotLeader) Error() string          { return "not the leader" }
func (e NotLeader) LeaderHTTPAddr() string { return e.Leader }

// Overloaded is an error with Overloaded() bool.
type Overloaded struct{}

func (Overloaded) Error() string    { return "overloaded" }
func (Overloaded) Overloaded() bool { return true }

func (m *Mem) Submit(ctx context.Context, cmds []engine.Command) ([]byte, error) {
	m.mu.Lock()
	d, err := m.delay, m.err
	m.mu.Unlock()
	if d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range cmds {
		if cmds[i].Invalid || !cmds[i].HasAt() || cmds[i].Type == engine.TypeQuote {
			return nil, errors.New("apitest: Submit got an invalid command, one without at, or a quote")
		}
	}
	m.submits++
	m.cmds += len(cmds)
	if m.step == nil {
		m.step = apply.New(m.eng)
	}
	_, entries := m.step.Apply(cmds)
	m.applied++
	out := m.step.AppendNDJSON(make([]byte, 0, 128*len(cmds)))
	if m.keep {
		for _, e := range entries {
			m.byCmd[e.CommandID] = append(m.byCmd[e.CommandID], len(m.ledger))
			m.ledger = append(m.ledger, e)
			m.owners = append(m.owners, [2]string{m.eng.AccountOwner(e.Debit), m.eng.AccountOwner(e.Credit)})
		}
		close(m.wrote)
		m.wrote = make(chan struct{})
	}
	return out, nil
}

func (m *Mem) Member(name string, consistency string) (engine.MemberView, uint64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return engine.MemberView{}, 0, false, m.err
	}
	v, ok := m.eng.Member(name, true)
	return v, m.applied, ok, nil
}

func (m *Mem) Quote(cmd *engine.Command) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	res, _ := m.eng.Apply([]engine.Command{*cmd}, nil, nil)
	return m.eng.AppendJSON(nil, &res[0]), nil
}

func (m *Mem) Program() *engine.Program { return m.prog }

var _ api.Backend = (*Mem)(nil)
