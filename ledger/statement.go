package ledger

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/cockroachdb/pebble/v2"
)

// StatementQuery selects a page of a member's statement.
type StatementQuery struct {
	// FromMS (inclusive) and ToMS (exclusive) restrict entries by time;
	// both 0 means no restriction, ToMS 0 alone means no upper bound.
	FromMS, ToMS int64
	// Limit is the page size: default 100, at most 1000.
	Limit int
	// Cursor continues a previous page (StatementPage.Next); "" starts at
	// the newest entry.
	Cursor string
}

// StatementPage is one page of a statement, newest entry first.
type StatementPage struct {
	Entries []Entry `json:"entries"`
	// Next is the cursor of the next (older) page, "" when there is none.
	Next string `json:"next"`
}

const (
	defaultStatementLimit = 100
	maxStatementLimit     = 1000
	// maxStatementScan bounds the index keys one page may skip over when a
	// time range filters most of them out; the page then ends early with a
	// cursor.
	maxStatementScan = 200_000
)

func encodeCursor(seq uint64) string { return "s" + strconv.FormatUint(seq, 36) }

func decodeCursor(c string) (uint64, error) {
	if len(c) < 2 || c[0] != 's' {
		return 0, fmt.Errorf("ledger: bad cursor %q", c)
	}
	s, err := strconv.ParseUint(c[1:], 36, 64)
	if err != nil || s == 0 {
		return 0, fmt.Errorf("ledger: bad cursor %q", c)
	}
	return s, nil
}

// Statement returns a page of the member's entries (those touching any of
// its accounts), newest (highest seq) first, optionally restricted to
// [FromMS, ToMS). ErrNotFound for an unknown member.
func (l *Ledger) Statement(member string, q StatementQuery) (StatementPage, error) {
	rg, err := q.resolve()
	if err != nil {
		return StatementPage{}, err
	}
	snap := l.db.NewSnapshot()
	defer snap.Close()
	id, ok, err := l.ownerID(snap, nsMember, member)
	if err != nil {
		return StatementPage{}, err
	}
	if !ok {
		return StatementPage{}, ErrNotFound
	}
	var page StatementPage
	seqs, next, err := statementSeqs(snap, id, rg)
	page.Next = next
	if err != nil {
		return page, err
	}
	page.Entries, err = l.entriesAt(snap, seqs)
	return page, err
}

// stmtRange is a StatementQuery with its defaults applied: the page size,
// the time range [from, to) and the seq the page starts below.
type stmtRange struct {
	limit    int
	from, to int64
	below    uint64
}

func (q StatementQuery) resolve() (stmtRange, error) {
	rg := stmtRange{limit: q.Limit, from: q.FromMS, to: q.ToMS, below: math.MaxUint64}
	if rg.limit <= 0 {
		rg.limit = defaultStatementLimit
	}
	rg.limit = min(rg.limit, maxStatementLimit)
	if rg.from == 0 && rg.to == 0 {
		rg.from = math.MinInt64
	}
	if rg.to == 0 {
		rg.to = math.MaxInt64
	}
	if rg.to <= rg.from {
		return rg, fmt.Errorf("ledger: empty time range [%d, %d)", rg.from, rg.to)
	}
	if q.Cursor != "" {
		var err error
		if rg.below, err = decodeCursor(q.Cursor); err != nil {
			return rg, err
		}
	}
	return rg, nil
}

// statementSeqs walks the member index back from below and returns the
// seqs of the page's entries, and the cursor of the next page ("" when
// there is none).
func statementSeqs(snap *pebble.Snapshot, id uint32, rg stmtRange) (seqs []uint64, next string, err error) {
	lo, hi := memberIxBounds(id)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, "", err
	}
	defer it.Close()
	var valid bool
	if rg.below == math.MaxUint64 {
		valid = it.Last()
	} else {
		valid = it.SeekLT(memberIxKey(nil, id, rg.below))
	}
	seqs = make([]uint64, 0, rg.limit)
	for scanned := 0; valid; valid = it.Prev() {
		k := it.Key()
		if len(k) != 13 {
			return seqs, next, fmt.Errorf("%w: member index key %x", ErrCorrupt, k)
		}
		seq := binary.BigEndian.Uint64(k[5:])
		if len(seqs) == rg.limit || scanned == maxStatementScan {
			// Everything above this (unprocessed) key is done: continue at it.
			next = encodeCursor(seq + 1)
			break
		}
		scanned++
		m, err := decodeMemberIx(it.Value())
		if err != nil {
			return seqs, next, fmt.Errorf("%w: member index %x: %v", ErrCorrupt, k, err)
		}
		if m.MaxAtMS < rg.from {
			break // every older entry is dated <= MaxAtMS < from
		}
		if m.AtMS >= rg.from && m.AtMS < rg.to {
			seqs = append(seqs, seq)
		}
	}
	return seqs, next, it.Error()
}

// entriesAt reads the entries with the given seqs, in that order.
func (l *Ledger) entriesAt(snap *pebble.Snapshot, seqs []uint64) ([]Entry, error) {
	br, err := newBlockReader(snap)
	if err != nil {
		return nil, err
	}
	defer br.close()
	out := make([]Entry, 0, len(seqs))
	for _, s := range seqs {
		raw, err := br.get(s)
		if err != nil {
			return out, err
		}
		e, err := l.entry(snap, raw)
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, nil
}
