package raft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/accrual/accrual/apply"
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
	"github.com/accrual/accrual/raft/codec"
	"github.com/accrual/accrual/raft/crashpoint"
	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
)

// Log entry kinds: the first byte of every LogCommand entry's Data.
const (
	entryCommands byte = 1 // codec.Compress(uvarint count ++ engine.AppendBinary…)
	entryRegister byte = 2 // uvarint len ++ node id ++ uvarint len ++ HTTP address
	entryProgram  byte = 3 // varint effective time (ms) ++ program source (YAML or JSON)
	entryGenesis  byte = 4 // program source: the program of record, at index 2 (genesis.go)
	// entryIngest (5): consumed offsets ++ an entryCommands body (ingest.go)
)

// maxEntryBytes caps one decoded command entry (a corrupt or hostile entry
// cannot make the FSM allocate more).
const maxEntryBytes = 16 << 20

// minBinaryCommand is a lower bound of one engine.AppendBinary command:
// version, type, fields, 8-byte hash, 4 varints, 10 lengths.
const minBinaryCommand = 2 + 1 + 8 + 4 + 10

// entryResponse is what ApplyBatch returns for a command entry on a node
// that may have callers waiting: NDJSON lines, one per command, and each
// line's end offset (after its '\n').
type entryResponse struct {
	ndjson []byte
	ends   []int32
	err    error
}

// fsm is the Raft state machine: the engine, the ledger writer, the read
// views and the replicated node directory.
type fsm struct {
	log    hclog.Logger
	prog   *engine.Program
	led    *ledger.Ledger
	lw     *ledgerWriter
	render func() bool // whether responses are needed (leader only)

	// spoolDir is where Snapshot writes the state before Persist copies it
	// into the store: the snapshot store's directory ("" is the system's
	// temporary directory).
	spoolDir string
	pager    *memberPager // the node's, forgotten when Restore drops the state (nil off a node)

	mu       sync.Mutex // the apply lock: eng and the scratch below
	observer Observer   // optional, called under mu
	eng      *engine.Engine
	step     *apply.Step          // over eng (Restore replaces both)
	records  *ledger.RecordReader // the step's store: evicted command records
	buf      []byte
	cmds     []engine.Command
	pending  ledgerBatch // for the ledger writer: entries and records of this ApplyBatch
	rewrite  ledgerBatch // records of a re-applied log, written by keepForLedger
	seen     []uint32    // member index → generation that collected it
	gen      uint32
	touched  []int32
	fatal    atomic.Pointer[error]
	// markLocal tells the snapshot store which sinks hold this node's own
	// snapshots (shippingStore.markLocal).
	markLocal func(id string)
	pub       viewPublisher

	nodesMu sync.RWMutex
	nodes   map[string]string // node id → HTTP address (replicated)

	offsetsMu sync.RWMutex
	offsets   map[partitionKey]int64 // consumed stream partition → next offset (replicated)
	ranges    []IngestRange          // scratch of applyIngest

	views   *viewStore
	hashReq atomic.Pointer[hashRequest] // a pending StateHashAt, checked once per log
	logObs  LogObserver                 // optional (Config.Seams.Logs), called under mu
	applied atomic.Uint64
	clockMS atomic.Int64
	notify  notifier
}

// newFSM keeps at most recordsInMemory command records resident (<= 0:
// apply.DefaultRecordsInMemory); the others are read back from the
// ledger's DB, where each batch writes the records it changed.
func newFSM(prog *engine.Program, led *ledger.Ledger, log hclog.Logger, render func() bool, recordsInMemory int) *fsm {
	f := &fsm{
		log: log, prog: prog, led: led, render: render,
		eng:     newEngine(prog),
		records: led.NewRecordReader(),
		nodes:   map[string]string{},
		offsets: map[partitionKey]int64{},
		views:   newViewStore(prog),
	}
	f.step = apply.NewStoreBacked(f.eng, f.records, recordsInMemory)
	f.lw = newLedgerWriter(led, &f.fatal)
	return f
}

// newEngine is the engine of a node: store-backed, its command records in
// the ledger's DB.
func newEngine(p *engine.Program) *engine.Engine {
	return engine.NewWithOptions(p, engine.Options{StoreBacked: true})
}

// close stops the ledger writer and closes the record reader: both before
// the ledger closes.
func (f *fsm) close() error {
	f.lw.close()
	return f.records.Close()
}

var _ hraft.BatchingFSM = (*fsm)(nil)

// Apply implements hraft.FSM (hraft calls ApplyBatch instead).
func (f *fsm) Apply(l *hraft.Log) interface{} { return f.ApplyBatch([]*hraft.Log{l})[0] }

// ApplyBatch applies committed entries in order. Each command entry goes
// through one engine.Apply; the ledger entries of all entries above the
// ledger's position are appended in one ledger.Append at the batch's last
// index; the views of touched members are published before the applied
// index moves.
func (f *fsm) ApplyBatch(logs []*hraft.Log) []interface{} {
	resp := make([]interface{}, len(logs))
	if len(logs) == 0 {
		return resp
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	render := f.render()
	ledgerPos := f.lw.position()
	f.pending = f.pending.emptied()
	f.touched = f.touched[:0]
	f.gen++
	if f.gen == 0 { // wrapped: forget old marks
		clear(f.seen)
		f.gen = 1
	}
	for i, l := range logs {
		if l.Type != hraft.LogCommand || len(l.Data) == 0 {
			continue
		}
		switch l.Data[0] {
		case entryCommands, entryIngest:
			if r := f.applyCommandEntry(l, render, l.Index > ledgerPos); render || r.err != nil {
				resp[i] = r
			}
		case entryRegister:
			id, http, err := decodeRegister(l.Data[1:])
			if err != nil {
				f.log.Error("bad register entry", "index", l.Index, "err", err)
				continue
			}
			f.nodesMu.Lock()
			f.nodes[id] = http
			f.nodesMu.Unlock()
		case entryProgram:
			// Parsed and checked again here, deterministically on every
			// replica: another change may have landed since the leader
			// validated this one.
			err := f.applyProgram(l.Data[1:])
			if err != nil {
				f.log.Warn("program change refused", "index", l.Index, "err", err)
			}
			resp[i] = &entryResponse{err: err}
		case entryGenesis:
			if err := f.applyGenesis(l.Index, l.Data[1:]); err != nil {
				f.log.Error("genesis entry refused", "index", l.Index, "err", err)
			}
		default:
			f.log.Error("unknown entry kind", "index", l.Index, "kind", l.Data[0])
		}
		if q := f.hashReq.Load(); q != nil && l.Index >= q.at {
			f.answerHash(q, l.Index)
		}
	}
	last := logs[len(logs)-1].Index
	if last > ledgerPos && f.fatal.Load() == nil {
		f.pending = f.lw.submit(last, f.pending)
	}
	f.step.Evict(f.led.Position())
	for _, mi := range f.touched {
		f.publish(mi)
	}
	f.refreshViews()
	if f.logObs != nil {
		f.logObs.AppliedLogs(logs)
	}
	f.clockMS.Store(f.eng.ClockMS())
	f.applied.Store(last)
	f.notify.broadcast()
	return resp
}

// applyCommandEntry applies an entry of commands: sent by clients
// (entryCommands) or consumed with their offsets (entryIngest).
func (f *fsm) applyCommandEntry(l *hraft.Log, render, emit bool) *entryResponse {
	var r *entryResponse
	if l.Data[0] == entryIngest {
		r = f.applyIngest(l.Index, l.Data[1:], render, emit)
	} else {
		r = f.applyCommands(l.Index, l.Data[1:], render, emit)
	}
	crashpoint.At(crashpoint.ApplyBatch)
	return r
}

func (f *fsm) applyCommands(index uint64, data []byte, render, emit bool) *entryResponse {
	payload, err := codec.Decompress(f.buf[:0], data, maxEntryBytes)
	if err != nil {
		return &entryResponse{err: fmt.Errorf("raft: decode entry: %w", err)}
	}
	f.buf = payload[:0]
	count, n := binary.Uvarint(payload)
	if n <= 0 || count > uint64(len(payload)/minBinaryCommand) {
		return &entryResponse{err: errors.New("raft: decode entry: bad command count")}
	}
	rest := payload[n:]
	f.cmds = f.cmds[:0]
	for range count {
		f.cmds = append(f.cmds, engine.Command{})
		if rest, err = engine.DecodeBinary(rest, &f.cmds[len(f.cmds)-1]); err != nil {
			return &entryResponse{err: fmt.Errorf("raft: decode entry: %w", err)}
		}
	}
	if len(rest) != 0 {
		return &entryResponse{err: errors.New("raft: decode entry: trailing bytes")}
	}
	results, entries, err := f.step.ApplyAt(index, f.cmds)
	if err != nil {
		// The command records this entry names cannot be read: applying it
		// without them could answer a duplicate as new, and the replicas
		// would diverge. Stop here; a restart retries from the log.
		panic(fmt.Sprintf("raft: apply log %d: %v", index, err))
	}
	if f.observer != nil {
		f.observer.Observe(f.cmds, results, entries)
	}
	for _, mi := range f.eng.Touched() {
		if int(mi) >= len(f.seen) {
			f.seen = append(f.seen, make([]uint32, int(mi)+1-len(f.seen)+len(f.seen)/2)...)
		}
		if f.seen[mi] != f.gen {
			f.seen[mi] = f.gen
			f.touched = append(f.touched, mi)
		}
	}
	if err := f.keepForLedger(emit); err != nil {
		panic(fmt.Sprintf("raft: apply log %d: %v", index, err))
	}
	if !render {
		return &entryResponse{}
	}
	// A fresh buffer per entry: it is handed to the waiting callers.
	r := &entryResponse{}
	r.ndjson, r.ends = f.step.AppendNDJSONEnds(make([]byte, 0, len(results)*100), make([]int32, 0, len(results)))
	return r
}

// keepForLedger adds the last Apply's entries and changed command records
// to the batch for the ledger writer. When the ledger already holds this
// log (a restart re-applying the log above its snapshot, or an install of a
// snapshot below the ledger's position) its entries are there, but the
// records it changed are written again, at once: the stored copies may be
// older than this log (an install imports the leader's copies, which can
// predate logs this node applied), and a record evicted after the batch
// would be read back without the refunds or cancellation re-applied here.
func (f *fsm) keepForLedger(emit bool) error {
	var err error
	if !emit {
		f.rewrite.records, f.rewrite.arena, err = f.step.AppendRecords(f.rewrite.records[:0], f.rewrite.arena[:0])
		if err != nil || len(f.rewrite.records) == 0 {
			return err
		}
		return f.led.PutRecords(f.rewrite.records)
	}
	f.pending.entries = f.step.LedgerEntries(f.pending.entries)
	f.pending.records, f.pending.arena, err = f.step.AppendRecords(f.pending.records, f.pending.arena)
	return err
}

func encodeProgram(src []byte, atMS int64) []byte {
	b := []byte{entryProgram}
	b = binary.AppendVarint(b, atMS)
	return append(b, src...)
}

// applyProgram schedules a program change carried by a log entry.
func (f *fsm) applyProgram(b []byte) error {
	atMS, n := binary.Varint(b)
	if n <= 0 {
		return errors.New("raft: truncated program entry")
	}
	next, err := engine.ParseProgram(b[n:])
	if err != nil {
		return err
	}
	if err := f.eng.ScheduleProgram(next, atMS); err != nil {
		return err
	}
	return nil
}

func encodeRegister(id, http string) []byte {
	b := []byte{entryRegister}
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	b = binary.AppendUvarint(b, uint64(len(http)))
	return append(b, http...)
}

func decodeRegister(b []byte) (id, http string, err error) {
	var s [2]string
	for i := range s {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return "", "", errors.New("truncated")
		}
		s[i] = string(b[n : n+int(l)])
		b = b[n+int(l):]
	}
	return s[0], s[1], nil
}

// stateHash hashes the engine's snapshot stream under the apply lock.
func (f *fsm) stateHash() uint64 {
	h := newHash64()
	f.mu.Lock()
	err := f.eng.Snapshot(h)
	f.mu.Unlock()
	if err != nil {
		return 0
	}
	return h.Sum64()
}

// hashRequest asks for the state hash right after the first applied log
// at or above index at. Every replica applies the same logs, so replicas
// asked with the same at hash the same state at the same index, however
// their applies are batched and while writes go on.
type hashRequest struct {
	at    uint64
	done  chan struct{}
	hash  uint64
	index uint64
	err   error
}

// answerHash runs on the apply path (f.mu held): it stalls applies for
// as long as serialising the engine takes, which is why only an operator
// asks for it, once per check.
func (f *fsm) answerHash(q *hashRequest, index uint64) {
	if !f.hashReq.CompareAndSwap(q, nil) {
		return
	}
	h := newHash64()
	q.err = f.eng.Snapshot(h)
	q.hash, q.index = h.Sum64(), index
	close(q.done)
}

// notifier broadcasts "the applied index moved" to waiting readers.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *notifier) broadcast() {
	n.mu.Lock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
	n.mu.Unlock()
}
