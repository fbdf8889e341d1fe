package apply

import (
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
)

// Step applies command batches to one engine and renders the last batch's
// results and entries. Its scratch is reused from batch to batch.
type Step struct {
	eng     *engine.Engine
	results []engine.Result
	entries []engine.Entry
	lents   []ledger.Entry // AppendLedger's scratch

	// store-backed (records.go): nil store for a keep-all engine
	store    RecordStore
	inMemory int
	missing  [][]byte
	value    []byte
	ends     [][2]int
	lrecs    []ledger.Record // AppendLedger's scratch
	arena    []byte
}

// New returns a step over eng.
func New(eng *engine.Engine) *Step { return &Step{eng: eng} }

// SetEngine replaces the engine (a snapshot was restored); the last batch
// is forgotten, since its entries belong to the old engine.
func (s *Step) SetEngine(eng *engine.Engine) {
	s.eng = eng
	s.results, s.entries = s.results[:0], s.entries[:0]
}

// Engine returns the engine the step applies to.
func (s *Step) Engine() *engine.Engine { return s.eng }

// Apply applies cmds in one engine.Apply and returns one result per command
// and the ledger entries they produced; both are valid until the next Apply.
func (s *Step) Apply(cmds []engine.Command) (results []engine.Result, entries []engine.Entry) {
	s.results, s.entries = s.eng.Apply(cmds, s.results[:0], s.entries[:0])
	return s.results, s.entries
}

// AppendNDJSON appends the last batch's results to dst as NDJSON: one JSON
// object per command, each followed by '\n'.
func (s *Step) AppendNDJSON(dst []byte) []byte {
	for i := range s.results {
		dst = s.eng.AppendJSON(dst, &s.results[i])
		dst = append(dst, '\n')
	}
	return dst
}

// AppendNDJSONEnds is AppendNDJSON that also appends to ends each line's end
// offset in dst (after its '\n'), so a caller can cut the lines apart.
func (s *Step) AppendNDJSONEnds(dst []byte, ends []int32) ([]byte, []int32) {
	for i := range s.results {
		dst = s.eng.AppendJSON(dst, &s.results[i])
		dst = append(dst, '\n')
		ends = append(ends, int32(len(dst)))
	}
	return dst, ends
}

// LedgerEntries appends the last batch's entries to dst as ledger entries,
// in the engine's order.
func (s *Step) LedgerEntries(dst []ledger.Entry) []ledger.Entry {
	for i := range s.entries {
		dst = append(dst, s.ledgerEntry(&s.entries[i]))
	}
	return dst
}

func (s *Step) ledgerEntry(e *engine.Entry) ledger.Entry {
	return ledger.Entry{
		AtMS: e.AtMS, CommandID: e.CommandID, Kind: LedgerKind(e.Kind), Points: e.Points,
		Debit:  ledger.Account{Kind: LedgerAccountKind(e.Debit.Kind), Owner: s.eng.AccountOwner(e.Debit)},
		Credit: ledger.Account{Kind: LedgerAccountKind(e.Credit.Kind), Owner: s.eng.AccountOwner(e.Credit)},
	}
}

// AppendLedger appends the last batch's entries, and a store-backed step's
// changed command records, to led at position in one batch, unless led
// already holds position (an earlier run over the same input stored them:
// a rerun appends nothing twice). Then it bounds the resident records.
func (s *Step) AppendLedger(led *ledger.Ledger, position uint64) error {
	if position <= led.Position() {
		return s.ForgetRecords()
	}
	s.lents = s.LedgerEntries(s.lents[:0])
	var err error
	s.lrecs, s.arena, err = s.AppendRecords(s.lrecs[:0], s.arena[:0])
	if err != nil {
		return err
	}
	if err := led.AppendWithRecords(position, s.lents, s.lrecs); err != nil {
		return err
	}
	s.Evict(led.Position())
	return nil
}
