package api

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/accrual/accrual/api/wire"
	"github.com/accrual/accrual/engine"
	"github.com/valyala/fasthttp"
)

// Command states in a batch.
const (
	stValid uint8 = iota
	stInvalid
	stFuture
	stQuote
	stNoClock // no `at`, and the clock may not be stamped
)

// errClockUnsynchronized: a command without `at` while the leader's clock
// disagrees with the cluster's (answered clock_unsynchronized, nothing
// proposed).
var errClockUnsynchronized error = sentinel("clock unsynchronized")

// clockNow is the time a request's commands are stamped with, and whether
// it may be (ClockReporter).
type clockNow struct {
	ms int64
	ok bool
}

// batch is the per-request working set of the command paths. Batches are
// pooled, so a request allocates nothing per command once the pool is warm
// (the engine decoder reuses its scratch buffer too).
type batch struct {
	body   []byte // the request body (our copy)
	lines  []byte // stream: copies of the chunk's lines
	dec    engine.Decoder
	cmds   []engine.Command
	st     []uint8
	sub    []engine.Command // the valid commands of the current run, in order
	subIdx []int32
	res    [][]byte // one result per command; points into errBuf or a Submit answer
	errBuf []byte
	out    []byte
}

const maxPooledBytes = 16 << 20

func (s *Server) getBatch() *batch { return s.pool.Get().(*batch) }

func (s *Server) putBatch(b *batch) {
	if cap(b.body) > maxPooledBytes || cap(b.out) > maxPooledBytes || cap(b.lines) > maxPooledBytes {
		return // let an oversize one go
	}
	b.resetCommands()
	clear(b.res[:cap(b.res)]) // drop references to Submit answers
	s.pool.Put(b)
}

func (b *batch) resetCommands() {
	b.cmds = b.cmds[:0]
	b.st = b.st[:0]
	b.sub = b.sub[:0]
	b.subIdx = b.subIdx[:0]
	b.res = b.res[:0]
	b.errBuf = b.errBuf[:0]
	b.lines = b.lines[:0]
	b.dec.Reset()
}

func (s *Server) nowMS() int64 { return s.clock().ms }

// add decodes one command line into the batch.
func (b *batch) add(line []byte, now clockNow) {
	c := b.newCommand()
	b.dec.Decode(line, c)
	b.classify(c, now)
}

// newCommand appends a command to the batch, reusing the slot's memory.
func (b *batch) newCommand() *engine.Command {
	n := len(b.cmds)
	if n < cap(b.cmds) {
		b.cmds = b.cmds[:n+1]
	} else {
		b.cmds = append(b.cmds, engine.Command{})
	}
	return &b.cmds[n]
}

// classify notes a decoded command's state: it fills a missing `at` and
// checks at_in_future (SPEC §1).
func (b *batch) classify(c *engine.Command, now clockNow) {
	st := stValid
	switch {
	case c.Invalid:
		st = stInvalid
	case !c.HasAt() && !now.ok:
		st = stNoClock
	case !c.HasAt():
		c.SetAt(now.ms)
	case c.AtMS > now.ms+futureSkewMS:
		st = stFuture
	}
	if st == stValid && c.Type == engine.TypeQuote {
		st = stQuote
	}
	b.st = append(b.st, st)
}

// decodeBody decodes the JSON array in b.body into the batch in one pass:
// each element is decoded where it starts (DecodePrefix) and the walker
// resumes after it to find the delimiter, so a well-formed command is
// scanned once. An element the prefix decoder declines, or with more than
// one object before its delimiter, is framed by the walker and decoded on
// its own, as before. At most max commands, stamped with now where they
// carry no `at`. A framing error fails the whole body (the commands
// decoded before it are dropped with the batch).
func (b *batch) decodeBody(max int, now clockNow) error {
	w, empty, err := openArray(b.body)
	if err != nil || empty {
		return err
	}
	for {
		start := w.skipWS()
		c := b.newCommand()
		from := start
		if n, ok := b.dec.DecodePrefix(b.body[start:], c); ok {
			from = start + n
		}
		end, last, err := w.next(start, from)
		if err != nil {
			return err
		}
		if len(b.cmds) > max {
			return errTooMany
		}
		if end != from {
			b.dec.Decode(b.body[start:end], c)
		}
		b.classify(c, now)
		if last {
			return trailing(b.body, w.i)
		}
	}
}

// partnerMay reports whether a partner key may send the command: only the
// commands that name a partner, and only its own. A refund must also name
// the original's partner (the engine rejects original_mismatch), so a
// partner can only refund its own purchases. A claim may name only a
// reward of the partner's (the program is read only for claims; an
// unknown reward is the operator's to send). Commands without a partner
// field (adjust, cancel_redemption, tick, membership, referral, action,
// transfer, capture, release) are operator-only.
func partnerMay(p Principal, be Backend, c *engine.Command) bool {
	switch c.Type {
	case engine.TypePurchase, engine.TypeRefund, engine.TypeRedeem, engine.TypeHold, engine.TypeQuote:
		return string(c.Partner) == p.Partner
	case engine.TypeClaim:
		partner, ok := be.Program().RewardPartner(c.Reward)
		return ok && partner == p.Partner
	}
	return false
}

// authorize checks every decodable command against a partner key; it
// returns the index of the first one not allowed, or -1.
func (b *batch) authorize(p Principal, be Backend) int {
	if p.Role == RoleOperator {
		return -1
	}
	for i := range b.cmds {
		if b.st[i] == stInvalid {
			continue
		}
		if p.Role != RolePartner || !partnerMay(p, be, &b.cmds[i]) {
			return i
		}
	}
	return -1
}

// appendErrorResult writes a rejected result exactly as the engine does.
func appendErrorResult(dst []byte, id []byte, code engine.ErrorCode) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendJSONString(dst, id)
	dst = append(dst, `,"status":"error","error":"`...)
	dst = append(dst, code.String()...)
	return append(dst, `"}`...)
}

var errResultCount = errors.New("backend returned a wrong number of result lines")

// run answers every command of the batch: invalid and at_in_future ones
// here, quotes through Backend.Quote at their place in the order, the rest
// through Backend.Submit in runs between quotes.
func (s *Server) run(ctx context.Context, b *batch) error {
	n := len(b.cmds)
	if cap(b.res) < n {
		b.res = make([][]byte, n, max(n, 2*cap(b.res)))
	}
	b.res = b.res[:n]
	plain := true
	for _, st := range b.st {
		if st == stNoClock {
			return errClockUnsynchronized // before anything is proposed
		}
		plain = plain && st == stValid
	}
	if plain {
		// One run of every command, in order: Submit takes them where
		// they were decoded, with no copy into b.sub.
		return s.submit(ctx, b, b.cmds, nil)
	}
	// Size errBuf once so the slices we take from it stay in one array.
	if need := 0; true {
		for i := range b.st {
			if b.st[i] == stInvalid || b.st[i] == stFuture {
				need += 48 + len(b.cmds[i].ID)*6
			}
		}
		if cap(b.errBuf) < need {
			b.errBuf = make([]byte, 0, need)
		}
	}
	b.sub, b.subIdx = b.sub[:0], b.subIdx[:0]
	for i := range b.cmds {
		c := &b.cmds[i]
		switch b.st[i] {
		case stInvalid, stFuture:
			code := engine.ErrInvalid
			if b.st[i] == stFuture {
				code = engine.ErrAtInFuture
			}
			off := len(b.errBuf)
			b.errBuf = appendErrorResult(b.errBuf, c.ID, code)
			b.res[i] = b.errBuf[off:len(b.errBuf):len(b.errBuf)]
			s.m.result(b.res[i])
		case stQuote:
			if err := s.flush(ctx, b); err != nil {
				return err
			}
			q, err := s.b.Quote(c)
			if err != nil {
				return err
			}
			b.res[i] = bytes.TrimRight(q, "\n")
		default:
			b.sub = append(b.sub, *c)
			b.subIdx = append(b.subIdx, int32(i))
		}
	}
	return s.flush(ctx, b)
}

// flush submits the pending run of valid commands.
func (s *Server) flush(ctx context.Context, b *batch) error {
	if len(b.sub) == 0 {
		return nil
	}
	if err := s.submit(ctx, b, b.sub, b.subIdx); err != nil {
		return err
	}
	b.sub, b.subIdx = b.sub[:0], b.subIdx[:0]
	return nil
}

// submit proposes cmds and places the k-th result at b.res[idx[k]] (at
// b.res[k] when idx is nil).
func (s *Server) submit(ctx context.Context, b *batch, cmds []engine.Command, idx []int32) error {
	s.m.batch.Observe(float64(len(cmds)))
	out, err := s.b.Submit(ctx, cmds)
	if err != nil {
		return err
	}
	k := 0
	for len(out) > 0 {
		j := bytes.IndexByte(out, '\n')
		var line []byte
		if j < 0 {
			line, out = out, nil
		} else {
			line, out = out[:j], out[j+1:]
		}
		if len(line) == 0 {
			continue
		}
		if k == len(cmds) {
			return errResultCount
		}
		at := k
		if idx != nil {
			at = int(idx[k])
		}
		b.res[at] = line
		s.m.result(line)
		k++
	}
	if k != len(cmds) {
		return errResultCount
	}
	return nil
}

// readBody copies the request body into b.body, at most limit bytes. It
// answers 413 / 408 / 400 itself and returns false on failure.
func (s *Server) readBody(ctx *fasthttp.RequestCtx, b *batch, limit int) bool {
	b.body = b.body[:0]
	cl := ctx.Request.Header.ContentLength()
	if cl > limit {
		ctx.SetConnectionClose()
		writeError(ctx, wire.BodyTooLarge, fmt.Sprintf("the body exceeds %d bytes", limit))
		return false
	}
	r := ctx.RequestBodyStream()
	if r == nil {
		body := ctx.PostBody()
		if len(body) > limit {
			writeError(ctx, wire.BodyTooLarge, fmt.Sprintf("the body exceeds %d bytes", limit))
			return false
		}
		b.body = append(b.body, body...)
		return true
	}
	if cl > 0 && cap(b.body) < cl {
		b.body = make([]byte, 0, cl)
	}
	for {
		if len(b.body) == cap(b.body) {
			b.body = append(b.body, 0)[:len(b.body)]
		}
		n, err := r.Read(b.body[len(b.body):cap(b.body)])
		b.body = b.body[:len(b.body)+n]
		if len(b.body) > limit {
			ctx.SetConnectionClose()
			writeError(ctx, wire.BodyTooLarge, fmt.Sprintf("the body exceeds %d bytes", limit))
			return false
		}
		if err == io.EOF {
			return true
		}
		if err != nil {
			ctx.SetConnectionClose()
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				writeErrorStatus(ctx, wire.StatusTimeoutReading, wire.Timeout, "timed out reading the request body", "")
			} else {
				writeError(ctx, wire.Invalid, "could not read the request body")
			}
			return false
		}
	}
}

// POST /v1/commands
func (s *Server) postCommands(ctx *fasthttp.RequestCtx, p Principal) {
	b := s.getBatch()
	defer s.putBatch(b)
	if !s.readBody(ctx, b, s.cfg.MaxBodyBytes) {
		return
	}
	if err := b.decodeBody(MaxBatch, s.clock()); err != nil {
		if err == errTooMany {
			writeError(ctx, wire.BatchTooLarge, fmt.Sprintf("at most %d commands per request", MaxBatch))
		} else {
			writeError(ctx, wire.Invalid, err.Error())
		}
		return
	}
	if i := b.authorize(p, s.b); i >= 0 {
		forbidden(ctx, fmt.Sprintf("command %d: a partner key may only send purchase, refund, redeem, hold and quote commands naming its own partner", i))
		return
	}
	cctx, cancel := context.WithTimeout(context.Background(), s.cfg.SubmitTimeout)
	err := s.run(cctx, b)
	cancel()
	if err != nil {
		s.backendError(ctx, err)
		return
	}
	out := append(b.out[:0], '[')
	for i, r := range b.res {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, r...)
	}
	out = append(out, ']')
	b.out = out
	ctx.SetContentType("application/json")
	ctx.SetBody(out) // copies
}

// --- /v1/stream ---

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 256<<10) }}

// POST /v1/stream: NDJSON in, NDJSON out. The response streams while the
// request is read: lines are gathered into chunks (at most StreamChunk
// commands, or fewer when no more input is waiting), each chunk is one
// Submit, its results are written and flushed before the next chunk.
func (s *Server) postStream(ctx *fasthttp.RequestCtx, p Principal) {
	body := ctx.RequestBodyStream()
	if body == nil {
		body = bytes.NewReader(append([]byte(nil), ctx.PostBody()...))
	}
	conn := ctx.Conn()
	ctx.SetContentType("application/x-ndjson")
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("api: panic in stream", "panic", fmt.Sprint(r))
				w.Write(appendErrorJSON(nil, wire.Internal, wire.Internal.Sentence(), ""))
				w.WriteByte('\n')
				w.Flush()
			}
		}()
		s.stream(w, body, conn, p)
	})
}

func (s *Server) streamError(w *bufio.Writer, code wire.ErrorCode, msg, leader string) {
	var buf [512]byte
	w.Write(appendErrorJSON(buf[:0], code, msg, leader))
	w.WriteByte('\n')
	w.Flush()
}

// streamBackendError ends a stream whose chunk the backend refused: the
// results written before it are final, the rest is to be retried.
func (s *Server) streamBackendError(w *bufio.Writer, err error) {
	kind, leader := classify(err)
	switch kind {
	case errNotLeader:
		s.streamError(w, wire.NotLeader, "this node is not the leader; results above are final, retry the rest with the same ids", leader)
	case errOverloaded:
		s.streamError(w, wire.Overloaded, "overloaded; results above are final, retry the rest with the same ids", "")
	case errDiskFull:
		s.streamError(w, wire.DiskFull, err.Error()+"; results above are final", "")
	case errNoClock:
		s.streamError(w, wire.ClockUnsynchronized, wire.ClockUnsynchronized.Sentence()+"; results above are final", "")
	case errTimeout, errCanceled:
		s.streamError(w, wire.Timeout, "timed out; results above are final, retry the rest with the same ids", "")
	default:
		s.log.Error("api: backend error in stream", "err", err.Error())
		s.streamError(w, wire.Internal, "internal error; results above are final, retry the rest with the same ids", "")
	}
}

func (s *Server) stream(w *bufio.Writer, body io.Reader, conn net.Conn, p Principal) {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(body)
	defer func() { br.Reset(nil); readerPool.Put(br) }()
	b := s.getBatch()
	defer s.putBatch(b)
	var long []byte
	for {
		b.resetCommands()
		if conn != nil {
			conn.SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout))
		}
		var readErr error
		eof := false
		now := s.clock()
		for len(b.cmds) < StreamChunk {
			line, err := br.ReadSlice('\n')
			if errors.Is(err, bufio.ErrBufferFull) {
				// An over-long line: gather up to MaxLineBytes, answer it
				// like any other line (too long is invalid).
				long = append(long[:0], line...)
				for errors.Is(err, bufio.ErrBufferFull) {
					line, err = br.ReadSlice('\n')
					if len(long) <= MaxLineBytes {
						long = append(long, line...)
					}
				}
				if len(long) > MaxLineBytes {
					long = append(long[:0], '!') // decodes as invalid
				}
				line = long
			}
			if t := bytes.TrimSpace(line); len(t) > 0 {
				off := len(b.lines)
				b.lines = append(b.lines, t...)
				b.add(b.lines[off:], now)
			}
			if err == io.EOF {
				eof = true
				break
			}
			if err != nil {
				readErr = err
				break
			}
			if br.Buffered() == 0 && len(b.cmds) > 0 {
				break // nothing more is waiting: answer what we have
			}
		}
		if len(b.cmds) > 0 {
			if i := b.authorize(p, s.b); i >= 0 {
				s.streamError(w, wire.Forbidden, "a partner key may only send purchase, refund, redeem, hold and quote commands naming its own partner", "")
				return
			}
			cctx, cancel := context.WithTimeout(context.Background(), s.cfg.SubmitTimeout)
			err := s.run(cctx, b)
			cancel()
			if err != nil {
				s.streamBackendError(w, err)
				return
			}
			if conn != nil {
				conn.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
			}
			for _, r := range b.res {
				w.Write(r)
				w.WriteByte('\n')
			}
			if err := w.Flush(); err != nil {
				return
			}
		}
		if readErr != nil {
			var ne net.Error
			if errors.As(readErr, &ne) && ne.Timeout() {
				s.streamError(w, wire.Timeout, "timed out reading the request body", "")
			} else {
				s.streamError(w, wire.Invalid, "could not read the request body", "")
			}
			return
		}
		if eof {
			return
		}
	}
}
