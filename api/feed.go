package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/accrual/accrual/api/wire"
	"github.com/valyala/fasthttp"
)

// FeedSource is implemented by a Backend that serves the change feed,
// GET /v1/changes (the Raft node's backend does; without it the route
// answers not_implemented). The feed is the ledger in seq order: every
// replica holds the same entries under the same seqs, so any replica
// serves it and a cursor (a seq) means the same on all of them.
type FeedSource interface {
	// LastSeq is the seq of the ledger's newest entry once the ledger
	// holds every log applied when it was called (0: no entry yet).
	LastSeq(ctx context.Context) (uint64, error)
	// Changes calls fn with the entries whose seq is greater than after,
	// in seq order, at most limit of them, as written now (none when after
	// is at the end), and returns how many it passed. fn must not keep
	// the Change.
	Changes(after uint64, limit int, fn func(c *wire.Change) error) (int, error)
	// WaitChanges returns nil once an entry with a seq greater than after
	// is written, else ctx's error or the backend's.
	WaitChanges(ctx context.Context, after uint64) error
}

// feedChunk is how many entries the feed reads (one ledger snapshot) and
// writes between two flushes.
const feedChunk = 1000

// maxFeedLimit bounds limit= on GET /v1/changes.
const maxFeedLimit = 1_000_000_000

// feedQuery is GET /v1/changes' query: after (the cursor, default 0: from
// the first entry), limit (0: no limit) and follow (default true: stay
// open for new entries; false: end at the ledger's end, a page).
type feedQuery struct {
	after  uint64
	limit  int
	follow bool
}

func parseFeedQuery(a *fasthttp.Args) (feedQuery, error) {
	q := feedQuery{follow: true}
	seen := map[string]bool{}
	for k, v := range a.All() {
		name := string(k)
		if seen[name] {
			return q, fmt.Errorf("query parameter %q repeated", k)
		}
		seen[name] = true
		var err error
		switch name {
		case "after":
			if q.after, err = strconv.ParseUint(string(v), 10, 64); err != nil {
				return q, errors.New("after must be a ledger seq: an integer 0 or more (0: from the first entry)")
			}
		case "limit":
			if q.limit, err = strconv.Atoi(string(v)); err != nil || q.limit < 1 || q.limit > maxFeedLimit {
				return q, fmt.Errorf("limit must be an integer 1 … %d", maxFeedLimit)
			}
		case "follow":
			switch string(v) {
			case "true", "1":
			case "false", "0":
				q.follow = false
			default:
				return q, errors.New("follow must be true or false")
			}
		default:
			return q, fmt.Errorf("unknown query parameter %q", k)
		}
	}
	return q, nil
}

// getChanges is GET /v1/changes: the ledger's entries after a cursor as an
// NDJSON stream, held open for the entries applied later (a stream, not a
// long poll) until limit entries were sent, the client goes, or the
// server shuts down; with follow=false it ends at the ledger's end. A partner key is refused: the feed is every member's
// ledger, an export like GET /v1/members.
func (s *Server) getChanges(ctx *fasthttp.RequestCtx, p Principal) {
	if p.Role == RolePartner {
		forbidden(ctx, "the change feed needs an operator or readonly key")
		return
	}
	fs, ok := s.b.(FeedSource)
	if !ok {
		writeError(ctx, wire.NotImplemented, "this backend has no change feed")
		return
	}
	q, err := parseFeedQuery(ctx.QueryArgs())
	if err != nil {
		writeError(ctx, wire.Invalid, err.Error())
		return
	}
	last, err := fs.LastSeq(ctx)
	if err != nil {
		s.backendError(ctx, err)
		return
	}
	if q.after > last {
		writeError(ctx, wire.CursorBeyondEnd, fmt.Sprintf("after=%d is beyond this replica's last ledger entry, seq %d: "+
			"a cursor is a seq this feed sent; a replica that has not applied it yet answers this too, retry later", q.after, last))
		return
	}
	conn := ctx.Conn()
	ctx.SetContentType("application/x-ndjson")
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) { s.feed(w, conn, fs, q) })
}

// feed writes the stream: a chunk of entries, a flush, and a wait for more
// once it has caught up.
func (s *Server) feed(w *bufio.Writer, conn net.Conn, fs FeedSource, q feedQuery) {
	var line []byte
	after, left, wrote := q.after, q.limit, false
	for {
		n := feedChunk
		if q.limit > 0 {
			n = min(n, left)
		}
		if conn != nil {
			conn.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
		}
		sent, err := fs.Changes(after, n, func(c *wire.Change) error {
			line = appendChange(line[:0], c)
			after = c.Seq
			_, err := w.Write(line)
			return err
		})
		if err != nil {
			s.feedError(w, err)
			return
		}
		if w.Flush() != nil {
			return // the client went
		}
		wrote = wrote || sent > 0
		if left -= sent; q.limit > 0 && left == 0 {
			return
		}
		if sent == n {
			continue
		}
		if !q.follow || !s.awaitChanges(w, conn, fs, after, wrote) {
			return
		}
		wrote = true
	}
}

// feedHeartbeat is how long an open feed stays silent: then it writes a
// blank line, which keeps proxies from closing an idle stream and finds a
// client that went away.
const feedHeartbeat = 15 * time.Second

// awaitChanges waits until an entry after `after` is written, writing a
// blank line first when nothing was written yet (the status line and
// headers go out with it, so a client sees the stream open before the
// first entry) and then every feedHeartbeat. False: the stream must end
// (shutdown, the client went, the backend failed; an error line is
// written for the last).
func (s *Server) awaitChanges(w *bufio.Writer, conn net.Conn, fs FeedSource, after uint64, wrote bool) bool {
	for {
		if !wrote {
			if conn != nil {
				conn.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
			}
			if w.WriteByte('\n') != nil || w.Flush() != nil {
				return false
			}
			wrote = true
		}
		ctx, cancel := context.WithTimeout(s.feeds, feedHeartbeat)
		err := fs.WaitChanges(ctx, after)
		cancel()
		switch {
		case err == nil:
			return true
		case s.feeds.Err() != nil: // a shutdown
			return false
		case !errors.Is(err, context.DeadlineExceeded):
			s.feedError(w, err)
			return false
		}
		wrote = false
	}
}

// feedError ends a feed whose headers are sent with an error line.
func (s *Server) feedError(w *bufio.Writer, err error) {
	var ne net.Error
	if errors.As(err, &ne) {
		return // a write to the client failed: nobody to tell
	}
	s.log.Error("api: change feed", "err", err.Error())
	s.streamError(w, wire.Unavailable, "the change feed stopped: "+err.Error()+"; resume from the last seq received", "")
}

// appendChange renders one feed line (wire.Change's fields, in its order)
// without encoding/json's reflection.
func appendChange(b []byte, c *wire.Change) []byte {
	b = strconv.AppendUint(append(b, `{"seq":`...), c.Seq, 10)
	b = appendJSONString(append(b, `,"at":`...), c.At)
	b = appendJSONString(append(b, `,"command_id":`...), c.CommandID)
	b = appendJSONString(append(b, `,"kind":`...), c.Kind)
	b = appendJSONString(append(b, `,"debit":`...), c.Debit)
	b = appendJSONString(append(b, `,"credit":`...), c.Credit)
	b = strconv.AppendInt(append(b, `,"points":`...), c.Points, 10)
	b = append(b, `,"balances":[`...)
	for i := range c.Balances {
		m := &c.Balances[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(append(b, `{"member":`...), m.Member)
		b = strconv.AppendInt(append(b, `,"available":`...), m.Available, 10)
		b = strconv.AppendInt(append(b, `,"pending":`...), m.Pending, 10)
		b = strconv.AppendInt(append(b, `,"held":`...), m.Held, 10)
		b = append(b, '}')
	}
	return append(b, "]}\n"...)
}
