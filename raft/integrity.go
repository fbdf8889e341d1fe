package raft

// Corrupted disks. A node checks its files as it opens them, and refuses
// to start on one whose checksum fails, with a CorruptDataError that names
// the file and says what to do; it never starts on damaged state and
// serves nothing computed from it (docs/RELIABILITY.md, "Corrupted
// disks"). What is checked when:
//
//   - the Raft log (DATA/raft): the WAL is replayed with a CRC per chunk
//     by Pebble at open; every block of the log is read once at open
//     (logstore.Verify, a read of the whole log, bounded by the Raft
//     settings), and again, from disk, by any later read of an uncached
//     block;
//   - the ledger (DATA/ledger): the WAL at open, like the log; the blocks
//     that Open reads (meta, last batch, owners, balances) at open; every
//     other block on every read from disk (a statement, a command record
//     the apply path needs, a snapshot sent to a follower), and by the
//     background scrub (scrub.go), pass after pass. A whole ledger is
//     not read at every start: it grows with history;
//   - snapshots (checkSnapshots, below): meta.json, and state.bin against
//     the CRC64 in meta.json, every retained snapshot at open;
//   - DATA/cluster-members: its crc32c line, at open (clusterid.go);
//   - the ledger's position against the snapshots (checkLedgerCovers): a
//     ledger that lost synced writes is never paired with a snapshot
//     whose state counts them.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/accrual/accrual/ledger"
	"github.com/accrual/accrual/raft/logstore"
	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
)

// ErrCorruptData: a file of the node's data directory failed its check.
var ErrCorruptData = errors.New("raft: corrupted data")

// rejoinRemedy is what to do about a node whose replicated state is
// damaged: its peers hold that state, and the documented procedure for a
// node that lost its data gives it back.
func rejoinRemedy(nodeID string) string {
	return "this node's data cannot be trusted: move its data directory aside, then on a healthy member run " +
		"accrual cluster remove --id " + nodeID + " and accrual cluster add --id " + nodeID + " --raft-addr … --http-addr …, " +
		"and start this node on an empty data directory: it catches up by snapshot from the leader " +
		`(docs/RELIABILITY.md, "Corrupted disks")`
}

// CorruptDataError is Open's refusal to start on a damaged file.
type CorruptDataError struct {
	File   string // the damaged file (or store directory, when Pebble does not say)
	Err    error  // what the check found
	Remedy string // what the operator should do
}

func (e *CorruptDataError) Error() string {
	// Pebble joins its corruption errors with a carrier of the details
	// (the file, read back by asCorrupt) whose text says nothing.
	what := strings.ReplaceAll(e.Err.Error(), "\n<corruption detail carrier>", "")
	return fmt.Sprintf("raft: %s is damaged (%s); %s", e.File, what, e.Remedy)
}

func (e *CorruptDataError) Unwrap() []error { return []error{ErrCorruptData, e.Err} }

// asCorrupt turns an error from opening or reading the store in dir into a
// CorruptDataError when it reports damaged data; other errors pass
// unchanged.
func asCorrupt(dir, nodeID string, err error) error {
	if err == nil || !(pebble.IsCorruptionError(err) || errors.Is(err, logstore.ErrCorrupt) || errors.Is(err, ledger.ErrCorrupt)) {
		return err
	}
	file := dir
	if info := pebble.ExtractDataCorruptionInfo(err); info != nil {
		file = info.Path
	}
	return &CorruptDataError{File: file, Err: err, Remedy: rejoinRemedy(nodeID)}
}

// openChecked opens the ledger and the Raft log, reads the whole log
// once (logstore.Verify) and checks the snapshots, before anything is
// restored or replayed: a damaged file stops Open here.
func (n *Node) openChecked(d dataDirs) error {
	id := n.cfg.NodeID
	var err error
	if n.led, err = ledger.Open(d.ledger, ledger.Options{}); err != nil {
		return asCorrupt(d.ledger, id, err)
	}
	if n.logs, err = logstore.Open(d.raft); err != nil {
		return asCorrupt(d.raft, id, err)
	}
	if _, err := n.logs.Verify(); err != nil {
		return asCorrupt(d.raft, id, err)
	}
	return checkSnapshots(d.snapshots, n.cfg.DataDir, id, n.led.Position(), n.logs, n.cfg.Logger.Named("snapshots"))
}

// snapshotMeta is the part of hashicorp/raft's meta.json that is checked.
type snapshotMeta struct {
	ID    string
	Index uint64
	Term  uint64
	Size  int64
	CRC   []byte
}

// checkSnapshot verifies one snapshot directory: meta.json parses and
// agrees with the directory's name (term-index-ms) and with state.bin,
// whose CRC64 is the one meta.json holds. It returns the snapshot's index
// and, when damaged, the file at fault.
func checkSnapshot(dir string) (index uint64, file string, err error) {
	file = filepath.Join(dir, "meta.json")
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, file, err
	}
	var m snapshotMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return 0, file, err
	}
	var term, ms uint64
	if _, err := fmt.Sscanf(filepath.Base(dir), "%d-%d-%d", &term, &index, &ms); err != nil {
		return 0, dir, fmt.Errorf("not a snapshot directory name: %w", err)
	}
	if m.ID != filepath.Base(dir) || m.Index != index || m.Term != term {
		return index, file, fmt.Errorf("id %q, index %d, term %d disagree with the directory's name", m.ID, m.Index, m.Term)
	}
	file = filepath.Join(dir, "state.bin")
	f, err := os.Open(file)
	if err != nil {
		return index, file, err
	}
	defer f.Close()
	h := crc64.New(crc64.MakeTable(crc64.ECMA))
	n, err := io.Copy(h, f)
	switch {
	case err != nil:
		return index, file, err
	case n != m.Size:
		return index, file, fmt.Errorf("%d bytes, meta.json says %d", n, m.Size)
	case !bytes.Equal(h.Sum(nil), m.CRC):
		return index, file, errors.New("CRC64 differs from the one in meta.json")
	}
	return index, "", nil
}

// snapCheck is one retained snapshot as checkSnapshots found it.
type snapCheck struct {
	dir       string
	index     uint64
	file      string // the damaged file, "" when sound
	err       error
	installed bool // installed from a leader: it carries a ledger section (installMark)
}

// checkSnapshots checks every retained snapshot before Raft restores one.
// Damaged ones are moved to DATA/snapshots-damaged (hashicorp/raft would
// otherwise try the newest again at every start, and a leader would offer
// it to followers). The node may go on when the newest sound snapshot, or
// an empty state, and the log after it still make the whole history: the
// log holds every entry from just after that snapshot. Otherwise it
// refuses with a CorruptDataError naming the damaged file. Then the sound
// snapshots are checked against the ledger's position (checkLedgerCovers).
func checkSnapshots(snapDir, dataDir, nodeID string, ledgerPos uint64, logs *logstore.Store, log hclog.Logger) error {
	checks, err := listSnapshots(filepath.Join(snapDir, "snapshots"))
	if err != nil || len(checks) == 0 {
		return err
	}
	sound := 0 // the newest sound snapshot (checks are newest first)
	for sound < len(checks) && checks[sound].file != "" {
		sound++
	}
	if sound > 0 {
		from := uint64(0) // the state Raft will restore: that snapshot's, or none
		if sound < len(checks) {
			from = checks[sound].index
		}
		covers, err := logCovers(logs, from)
		if err != nil {
			return asCorrupt(filepath.Join(dataDir, "raft"), nodeID, err)
		}
		if !covers {
			newest := checks[0]
			return &CorruptDataError{File: newest.file, Err: newest.err, Remedy: rejoinRemedy(nodeID)}
		}
	}
	if err := setAsideDamaged(checks, dataDir, log); err != nil {
		return err
	}
	var sounds []snapCheck
	for _, c := range checks {
		if c.file == "" {
			sounds = append(sounds, c)
		}
	}
	return checkLedgerCovers(sounds, dataDir, nodeID, ledgerPos, logs, log)
}

// checkLedgerCovers makes sure that the snapshot Raft restores is not ahead
// of the ledger. The ledger runs without fsync but is synced before a
// snapshot is persisted, so its position is below a snapshot's index only
// when it lost synced writes: a damaged write-ahead log, whose replay
// Pebble ends at the damage as at a torn tail. That snapshot's state would
// then count commands whose ledger entries and command records are gone: a
// retry would be applied anew, a refund would find no original, and this
// node would answer otherwise than its peers. The node starts instead from
// the newest snapshot at or below the ledger's position (or from the empty
// state) when the log holds every entry after it, re-applying the rest
// (the newer snapshots are set aside); else it refuses, naming the ledger.
// A snapshot installed from a leader is never ahead: it carries the
// leader's ledger up to its index, which Restore imports (a follower
// killed while importing it finishes the import at restart).
// sound are the sound snapshots, newest first.
func checkLedgerCovers(sound []snapCheck, dataDir, nodeID string, ledgerPos uint64, logs *logstore.Store, log hclog.Logger) error {
	ahead := 0 // snapshots ahead of the ledger that do not bring their own
	for ahead < len(sound) && sound[ahead].index > ledgerPos && !sound[ahead].installed {
		ahead++
	}
	if ahead == 0 {
		return nil
	}
	from := uint64(0)
	if ahead < len(sound) {
		from = sound[ahead].index
	}
	covers, err := logCovers(logs, from)
	if err != nil {
		return asCorrupt(filepath.Join(dataDir, "raft"), nodeID, err)
	}
	if !covers {
		return &CorruptDataError{File: filepath.Join(dataDir, "ledger"),
			Err: fmt.Errorf("its position %d is below the snapshot at %d: it lost writes that the snapshot's state counts "+
				"(a damaged write-ahead log), and the Raft log does not hold what would rebuild them", ledgerPos, sound[0].index),
			Remedy: rejoinRemedy(nodeID)}
	}
	return setAside(sound[:ahead], filepath.Join(dataDir, "snapshots-ahead-of-ledger"), func(c snapCheck, to string) {
		log.Error("a snapshot ahead of the ledger was set aside (the ledger lost writes); the node starts from an older state and re-applies its log",
			"snapshot", c.dir, "snapshot_index", c.index, "ledger_position", ledgerPos, "moved_to", to)
	})
}

// logCovers reports whether a restore of the state at index from (0: the
// empty state) and a replay of the log make the whole history: the log
// starts at most right after from and holds every entry from there on.
func logCovers(logs *logstore.Store, from uint64) (bool, error) {
	first, err := logs.FirstIndex()
	if err != nil {
		return false, err
	}
	return first != 0 && first <= from+1 && logHolds(logs, from+1), nil
}

// logHolds reports whether the log holds every entry from index to its
// last. A follower that installed a snapshot keeps the entries it had
// below it and appends after it, so its log can have a gap that only the
// newest snapshot covered: Raft would start from an older one and find an
// entry missing (hashicorp/raft panics then).
func logHolds(logs *logstore.Store, index uint64) bool {
	last, err := logs.LastIndex()
	if err != nil {
		return false
	}
	var l hraft.Log
	for i := index; i <= last; i++ {
		if logs.GetLog(i, &l) != nil {
			return false
		}
	}
	return true
}

// listSnapshots checks the snapshots in dir, newest first.
func listSnapshots(dir string) ([]snapCheck, error) {
	es, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var checks []snapCheck
	for _, e := range es {
		if !e.IsDir() || strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		c := snapCheck{dir: filepath.Join(dir, e.Name())}
		c.index, c.file, c.err = checkSnapshot(c.dir)
		_, err := os.Stat(filepath.Join(c.dir, installMark))
		c.installed = err == nil
		checks = append(checks, c)
	}
	sort.Slice(checks, func(i, j int) bool { return checks[i].index > checks[j].index })
	return checks, nil
}

// setAsideDamaged moves the damaged snapshots out of the snapshot store.
func setAsideDamaged(checks []snapCheck, dataDir string, log hclog.Logger) error {
	var damaged []snapCheck
	for _, c := range checks {
		if c.file != "" {
			damaged = append(damaged, c)
		}
	}
	return setAside(damaged, filepath.Join(dataDir, "snapshots-damaged"), func(c snapCheck, to string) {
		log.Error("a damaged snapshot was set aside; the node starts from an older snapshot and its log",
			"file", c.file, "error", c.err, "moved_to", to)
	})
}

// setAside moves snapshots out of the snapshot store into the directory
// aside, calling logMove for each.
func setAside(checks []snapCheck, aside string, logMove func(c snapCheck, to string)) error {
	for _, c := range checks {
		if err := os.MkdirAll(aside, 0o700); err != nil {
			return err
		}
		to := filepath.Join(aside, filepath.Base(c.dir))
		if err := os.Rename(c.dir, to); err != nil {
			return err
		}
		logMove(c, to)
	}
	return nil
}
