package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// ChangeFollower reads GET /v1/changes from the first entry while a run
// writes, over HTTP as a CRM or warehouse following the feed would, and
// reports whether it kept up with the writes (`accrual bench
// --follow-changes`).
type ChangeFollower struct {
	base, key string
	client    *http.Client
	started   time.Time
	lastSeq   atomic.Uint64 // the seq of the last entry read
	read      atomic.Int64  // entries read
	cancel    context.CancelFunc
	done      chan struct{}
	err       error // set before done closes
}

// FeedReport is how the follower fared. The writes end when the run's
// last batch is acknowledged.
type FeedReport struct {
	WriteSeconds     float64 `json:"write_s"`         // from the follower's start to the end of the writes
	EntriesWritten   uint64  `json:"entries_written"` // the ledger entries the writes made
	EntriesReadByEnd int64   `json:"entries_read_by_end"`
	WrittenPerS      float64 `json:"written_per_s"`
	ReadPerS         float64 `json:"read_per_s"` // read by the end of the writes / WriteSeconds
	LagAtEnd         uint64  `json:"lag_entries_at_end"`
	CatchUpMS        float64 `json:"catch_up_ms"` // from the end of the writes until every entry was read
}

// errUnavailable: the node answered 503 (starting).
var errUnavailable = errors.New("the node is not ready")

// FollowChanges starts following the feed of the node t writes to (an
// HTTP target: its first URL).
func FollowChanges(ctx context.Context, t Target, key string) (*ChangeFollower, error) {
	ht, ok := t.(*HTTPTarget)
	if !ok {
		return nil, errors.New("bench: --follow-changes needs a node, cluster or --url target")
	}
	ctx, cancel := context.WithCancel(ctx)
	f := &ChangeFollower{base: ht.urls[0], key: key, client: &http.Client{}, started: time.Now(),
		cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		f.err = f.follow(ctx)
	}()
	return f, nil
}

func (f *ChangeFollower) get(ctx context.Context, query string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.base+"/v1/changes?"+query, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+f.key)
	resp, err := f.client.Do(req)
	if err == nil && resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		err = fmt.Errorf("GET /v1/changes?%s: HTTP %d: %s", query, resp.StatusCode, bytes.TrimSpace(body))
		if resp.StatusCode == http.StatusServiceUnavailable {
			err = fmt.Errorf("%w: %w", errUnavailable, err)
		}
		return nil, err
	}
	return resp, err
}

// follow reads one open feed from the first entry until ctx ends. A node
// still starting answers 503: that is retried for up to 30 s.
func (f *ChangeFollower) follow(ctx context.Context) error {
	resp, err := f.get(ctx, "after=0")
	for deadline := time.Now().Add(30 * time.Second); errors.Is(err, errUnavailable) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		resp, err = f.get(ctx, "after=0")
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	br := bufio.NewReaderSize(resp.Body, 1<<20)
	for {
		line, err := br.ReadSlice('\n')
		if seq, ok := lineSeq(line); ok {
			f.lastSeq.Store(seq)
			f.read.Add(1)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("the change feed ended: %w", err)
		}
	}
}

// lineSeq is the "seq" of a feed line (the first field, SPEC §7); false
// for a heartbeat (blank) line or a line without one.
func lineSeq(line []byte) (uint64, bool) {
	i := bytes.Index(line, []byte(`"seq":`))
	if i < 0 {
		return 0, false
	}
	rest := line[i+len(`"seq":`):]
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	seq, err := strconv.ParseUint(string(rest[:n]), 10, 64)
	return seq, err == nil
}

// Finish is called when the writes end: it waits until the follower has
// read every entry (at most a minute), stops it and reports.
func (f *ChangeFollower) Finish(ctx context.Context) (FeedReport, error) {
	end := time.Now()
	r := FeedReport{WriteSeconds: end.Sub(f.started).Seconds(), EntriesReadByEnd: f.read.Load()}
	defer func() { f.cancel(); <-f.done }()
	deadline := end.Add(time.Minute)
	for {
		select {
		case <-f.done:
			return r, f.err
		default:
		}
		seq := f.lastSeq.Load()
		atEnd, err := f.atEnd(ctx, seq)
		if err != nil {
			return r, err
		}
		if atEnd {
			r.CatchUpMS = float64(time.Since(end).Microseconds()) / 1000
			r.EntriesWritten = seq
			break
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("the follower read up to seq %d and did not catch up within a minute", seq)
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.LagAtEnd = r.EntriesWritten - uint64(r.EntriesReadByEnd)
	r.WrittenPerS = float64(r.EntriesWritten) / r.WriteSeconds
	r.ReadPerS = float64(r.EntriesReadByEnd) / r.WriteSeconds
	return r, nil
}

// atEnd: no entry follows seq (GET /v1/changes?follow=false answers once
// the ledger holds every entry applied when it was asked).
func (f *ChangeFollower) atEnd(ctx context.Context, seq uint64) (bool, error) {
	resp, err := f.get(ctx, "follow=false&limit=1&after="+strconv.FormatUint(seq, 10))
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return len(bytes.TrimSpace(body)) == 0, err
}

// Line is the report's one-line summary.
func (r FeedReport) Line() string {
	return fmt.Sprintf("change feed: %d entries written (%.0f/s), %d read by the end of the writes (%.0f/s); lag then %d entries, all read %.0f ms later",
		r.EntriesWritten, r.WrittenPerS, r.EntriesReadByEnd, r.ReadPerS, r.LagAtEnd, r.CatchUpMS)
}
