package bench

import (
	"context"
	"errors"
	"sync"

	"github.com/accrual/accrual/apply"
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
)

// EngineTarget applies batches to an engine in this process, one batch at a
// time (the engine is single-threaded by design), and with a ledger (the
// replay target) writes each batch's entries as one ledger append, as
// `accrual replay --data` does.
type EngineTarget struct {
	name string
	mu   sync.Mutex
	step *apply.Step
	dec  engine.Decoder
	cmds []engine.Command
	led  *ledger.Ledger
	// records reads the replay target's evicted command records from led.
	records *ledger.RecordReader
	pos     uint64 // commands applied (the ledger position)
	// applied keeps the applied batches in apply order (SetRecord).
	record  bool
	applied [][]byte
}

// NewEngineTarget returns the in-process engine target.
func NewEngineTarget(p *engine.Program) *EngineTarget {
	return &EngineTarget{name: "engine", step: apply.New(engine.New(p))}
}

// NewReplayTarget returns a store-backed engine plus a ledger in dir,
// which also holds the command records; recordsInMemory of them stay
// resident (<= 0: apply.DefaultRecordsInMemory).
func NewReplayTarget(p *engine.Program, dir string, opts ledger.Options, recordsInMemory int) (*EngineTarget, error) {
	led, err := ledger.Open(dir, opts)
	if err != nil {
		return nil, err
	}
	records := led.NewRecordReader()
	eng := engine.NewWithOptions(p, engine.Options{StoreBacked: true})
	return &EngineTarget{name: "replay", step: apply.NewStoreBacked(eng, records, recordsInMemory),
		led: led, records: records, pos: led.Position()}, nil
}

// Name implements Target.
func (t *EngineTarget) Name() string { return t.name }

// Engine returns the target's engine (read it only after the run).
func (t *EngineTarget) Engine() *engine.Engine { return t.step.Engine() }

// Ledger returns the replay target's ledger (nil for the engine target).
func (t *EngineTarget) Ledger() *ledger.Ledger { return t.led }

// SetRecord makes the target keep every applied batch in apply order.
func (t *EngineTarget) SetRecord(on bool) { t.record = on }

// Applied returns the batches applied so far (SetRecord), newline-terminated lines.
func (t *EngineTarget) Applied() [][]byte { return t.applied }

// Submit implements Target.
func (t *EngineTarget) Submit(_ context.Context, lines [][]byte, dst []byte) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dec.Reset()
	t.cmds = t.cmds[:0]
	for _, l := range lines {
		t.cmds = append(t.cmds, engine.Command{})
		t.dec.Decode(l, &t.cmds[len(t.cmds)-1])
	}
	if _, _, err := t.step.ApplyAt(t.pos+uint64(len(lines)), t.cmds); err != nil {
		return dst, err
	}
	dst = t.step.AppendNDJSON(dst)
	t.pos += uint64(len(lines))
	if t.led != nil {
		// An empty batch leaves pos at the ledger's position: nothing appended.
		if err := t.step.AppendLedger(t.led, t.pos); err != nil {
			return dst, err
		}
	}
	if t.record {
		n := 0
		for _, l := range lines {
			n += len(l) + 1
		}
		b := make([]byte, 0, n)
		for _, l := range lines {
			b = append(append(b, l...), '\n')
		}
		t.applied = append(t.applied, b)
	}
	return dst, nil
}

// Close implements Target.
func (t *EngineTarget) Close() error {
	if t.led != nil {
		return errors.Join(t.records.Close(), t.led.Close())
	}
	return nil
}
