package apply

import (
	"fmt"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
)

// DefaultRecordsInMemory is the command records a store-backed step keeps
// resident when its caller names no window. A purchase's record is 88 B,
// its details 40 B (TestMemoryFootprint), plus its id and an index slot:
// about 160 MB for 1M. They hold the ids of the last seconds of a busy
// coalition, so that retries and refunds of recent purchases rarely read
// the store.
const DefaultRecordsInMemory = 1 << 20

// RecordStore is where a store-backed step finds the command records its
// engine evicted: ledger.RecordReader on the ledger's Pebble DB.
type RecordStore interface {
	Record(id, dst []byte) (value []byte, found bool, err error)
}

// NewStoreBacked returns a step over a store-backed engine
// (engine.Options.StoreBacked) whose evicted records are in store; it keeps
// at most recordsInMemory records resident (<= 0: DefaultRecordsInMemory).
// A keep-all engine (restored from an older snapshot) works too: it loads
// nothing and evicts nothing, and its records still reach the store.
func NewStoreBacked(eng *engine.Engine, store RecordStore, recordsInMemory int) *Step {
	if recordsInMemory <= 0 {
		recordsInMemory = DefaultRecordsInMemory
	}
	return &Step{eng: eng, store: store, inMemory: recordsInMemory}
}

// ApplyAt is TigerBeetle's prefetch then execute: it loads the records the
// batch names that the engine evicted, then applies the batch at position
// (the Raft log index, or the commands read so far in offline replay;
// strictly increasing). The engine's output never depends on what was
// resident: a record is either resident or loaded here. A store that
// cannot be read fails the batch before anything is applied.
func (s *Step) ApplyAt(position uint64, cmds []engine.Command) ([]engine.Result, []engine.Entry, error) {
	if err := s.prefetch(position, cmds); err != nil {
		return nil, nil, err
	}
	s.eng.SetPosition(position)
	results, entries := s.Apply(cmds)
	return results, entries, nil
}

func (s *Step) prefetch(position uint64, cmds []engine.Command) error {
	if s.store == nil {
		return nil
	}
	s.missing = s.eng.AppendMissing(cmds, s.missing[:0])
	for _, id := range s.missing {
		value, found, err := s.store.Record(id, s.value[:0])
		s.value = value
		if err != nil {
			return fmt.Errorf("apply: read command record %q: %w", id, err)
		}
		if !found {
			continue // a new id: the common case
		}
		if err := s.eng.LoadRecord(id, value, position); err != nil {
			return fmt.Errorf("apply: command record %q at position %d: %w", id, position, err)
		}
	}
	return nil
}

// AppendRecords appends to dst the command records that the applies since
// the last call created or changed, to be written in the same ledger batch
// as their entries. Their bytes are copied into arena (returned grown), so
// dst and arena belong to the caller, who may hand them to another
// goroutine. Without a store it appends nothing.
func (s *Step) AppendRecords(dst []ledger.Record, arena []byte) ([]ledger.Record, []byte, error) {
	if s.store == nil {
		return dst, arena, nil
	}
	start, ends := len(arena), s.ends[:0]
	err := s.eng.AppendDirty(func(id string, value []byte) error {
		arena = append(arena, id...)
		idEnd := len(arena)
		arena = append(arena, value...)
		ends = append(ends, [2]int{idEnd, len(arena)})
		return nil
	})
	s.ends = ends
	if err != nil {
		return dst, arena, err
	}
	// Sliced only now: arena may have moved while it grew. Records that
	// earlier calls appended to dst keep the array they point into.
	for _, end := range ends {
		dst = append(dst, ledger.Record{ID: arena[start:end[0]:end[0]], Value: arena[end[0]:end[1]:end[1]]})
		start = end[1]
	}
	return dst, arena, nil
}

// ForgetRecords marks the records the applies since the last call changed
// as stored without writing them: the caller re-applied positions its
// store already holds (a restart replaying the log above a snapshot).
func (s *Step) ForgetRecords() error {
	if s.store == nil {
		return nil
	}
	return s.eng.AppendDirty(func(string, []byte) error { return nil })
}

// Evict bounds the resident records to the step's window, keeping those
// changed after writtenThrough (the store's position: their write may not
// be visible yet).
func (s *Step) Evict(writtenThrough uint64) {
	if s.store != nil {
		s.eng.Evict(s.inMemory, writtenThrough)
	}
}
