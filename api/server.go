package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accrual/accrual/api/wire"
	"github.com/accrual/accrual/engine"
	"github.com/valyala/fasthttp"
)

// Limits of the API.
const (
	// MaxBatch is the most commands one POST /v1/commands may carry.
	MaxBatch = 8192
	// StreamChunk is the most commands of a stream submitted at once.
	StreamChunk = 4096
	// MaxLineBytes is the longest NDJSON line a stream accepts; a longer
	// line answers `invalid` (it is never decoded).
	MaxLineBytes = 1 << 20
	// futureSkewMS: an `at` more than this ahead of the leader's clock is
	// rejected with at_in_future (SPEC §1).
	futureSkewMS = 5 * 60 * 1000
)

// Config configures a Server. Zero values take the defaults noted.
type Config struct {
	Addr    string // listen address, "127.0.0.1:0" picks a free port
	Backend Backend
	// Keys authenticates requests. Nil Keys is refused unless InsecureNoAuth
	// is set, in which case every request is an operator (development only).
	Keys           *Keys
	InsecureNoAuth bool
	// PublicMetrics serves GET /metrics without a key.
	PublicMetrics bool

	MaxBodyBytes int // per request body, default 8 MiB (not for /v1/stream); headers are capped at 16 KiB (431)
	// HeaderTimeout bounds the request line and headers, from the
	// connection's accept (first request) or the request's first byte
	// (keep-alive): a slowloris client is cut after it. Default 10s, at
	// most ReadTimeout.
	HeaderTimeout time.Duration
	ReadTimeout   time.Duration // request body after the headers, default 30s; per chunk on /v1/stream
	WriteTimeout  time.Duration // whole response, default 30s; per chunk on /v1/stream
	IdleTimeout   time.Duration // keep-alive idle, default 120s
	SubmitTimeout time.Duration // a Backend.Submit call, default 30s
	// MaxConnsPerIP caps one client address's open connections; more are
	// answered 429 and closed. Default 0: unlimited.
	MaxConnsPerIP int
	// Concurrency caps open connections in all (a connection holds a
	// worker for its whole life, keep-alive idle included); more are
	// answered 503 and closed. Default fasthttp's 256*1024.
	Concurrency int
	// Now is the leader's wall clock, used to fill a missing `at` and for
	// the at_in_future bound, unless the Backend is a ClockReporter;
	// default time.Now.
	Now func() time.Time
	// TLSCert and TLSKey, both set, serve HTTPS (PEM file paths).
	TLSCert, TLSKey string
	Logger          *slog.Logger
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	b       Backend
	keys    *Keys
	log     *slog.Logger
	m       *metrics
	srv     *fasthttp.Server
	fmtEng  *engine.Engine  // formats result lines (error results need no state)
	clock   func() clockNow // the time to stamp (Config.Now or a ClockReporter)
	scheme  string
	ready   atomic.Bool
	mu      sync.Mutex
	ln      net.Listener
	pool    sync.Pool // *batch
	started chan struct{}
	// feeds ends at Shutdown: open change feeds (GET /v1/changes) wait on
	// it for new entries, and would otherwise hold Shutdown up.
	feeds     context.Context
	stopFeeds context.CancelFunc
}

// New validates cfg and builds a server; it does not listen yet.
func New(cfg Config) (*Server, error) {
	if cfg.Backend == nil {
		return nil, errors.New("api: Config.Backend is nil")
	}
	if cfg.Keys == nil && !cfg.InsecureNoAuth {
		return nil, errors.New("api: Config.Keys is nil (set InsecureNoAuth for a development server without keys)")
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 8 << 20
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 30 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 120 * time.Second
	}
	if cfg.HeaderTimeout <= 0 {
		cfg.HeaderTimeout = 10 * time.Second
	}
	cfg.HeaderTimeout = min(cfg.HeaderTimeout, cfg.ReadTimeout)
	if cfg.SubmitTimeout <= 0 {
		cfg.SubmitTimeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("api: TLSCert and TLSKey go together")
	}
	s := &Server{cfg: cfg, b: cfg.Backend, keys: cfg.Keys, log: cfg.Logger, m: newMetrics(),
		scheme: "http", started: make(chan struct{})}
	s.feeds, s.stopFeeds = context.WithCancel(context.Background())
	if cfg.TLSCert != "" {
		s.scheme = "https"
	}
	if p := cfg.Backend.Program(); p != nil {
		s.fmtEng = engine.New(p)
	}
	if k, ok := cfg.Backend.(KafkaReporter); ok {
		s.m.reg.MustRegister(kafkaCollector{k})
	}
	if d, ok := cfg.Backend.(DiskReporter); ok {
		s.m.registerDisk(d)
	}
	if r, ok := cfg.Backend.(ScrubReporter); ok {
		s.m.registerScrub(r)
	}
	s.clock = func() clockNow { return clockNow{ms: s.cfg.Now().UnixMilli(), ok: true} }
	if c, ok := cfg.Backend.(ClockReporter); ok {
		s.m.registerClock(c)
		s.clock = func() clockNow { ms, ok := c.ClusterTime(); return clockNow{ms: ms, ok: ok} }
	}
	s.pool.New = func() any { return new(batch) }
	s.srv = &fasthttp.Server{
		Handler:            s.handle,
		Name:               "accrual",
		MaxRequestBodySize: cfg.MaxBodyBytes,
		StreamRequestBody:  true,              // handlers read bodies themselves, within their own limits
		ReadTimeout:        cfg.HeaderTimeout, // fasthttp's covers accept → headers; bodyDeadline extends it
		WriteTimeout:       cfg.WriteTimeout,
		IdleTimeout:        cfg.IdleTimeout,
		MaxConnsPerIP:      cfg.MaxConnsPerIP,
		Concurrency:        cfg.Concurrency,
		NoDefaultDate:      false,
		CloseOnShutdown:    true,
		ReadBufferSize:     16 << 10,
		Logger:             &fasthttpLogger{l: cfg.Logger},
		ErrorHandler:       requestError,
	}
	if cfg.HeaderTimeout < cfg.ReadTimeout {
		s.srv.HeaderReceived = s.bodyDeadline
	}
	s.ready.Store(true)
	return s, nil
}

// bodyDeadline gives a request whose headers arrived ReadTimeout for its
// body (fasthttp's ReadTimeout, set to HeaderTimeout, covered the headers).
func (s *Server) bodyDeadline(*fasthttp.RequestHeader) fasthttp.RequestConfig {
	return fasthttp.RequestConfig{ReadTimeout: s.cfg.ReadTimeout}
}

// requestError answers, in the API's error format, a request fasthttp could
// not read; the connection is closed after it.
func requestError(ctx *fasthttp.RequestCtx, err error) {
	var small *fasthttp.ErrSmallBuffer
	var ne net.Error
	switch {
	case errors.As(err, &small):
		writeCode(ctx, wire.HeadersTooLarge)
	case errors.As(err, &ne) && ne.Timeout():
		writeErrorStatus(ctx, wire.StatusTimeoutReading, wire.Timeout, "timed out reading the request", "")
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		writeCode(ctx, wire.BodyTooLarge)
	default:
		writeError(ctx, wire.Invalid, "malformed HTTP request")
	}
}

// fasthttpLogger passes fasthttp's warnings to slog, at most one a second:
// fasthttp warns once per connection that breaks off mid-request, so a
// connection flood would otherwise flood the log too.
type fasthttpLogger struct {
	l          *slog.Logger
	lastNS     atomic.Int64 // wall clock of the last line written
	suppressed atomic.Int64 // lines dropped since
}

func (f *fasthttpLogger) Printf(format string, args ...any) {
	now := time.Now().UnixNano()
	last := f.lastNS.Load()
	if now-last < int64(time.Second) || !f.lastNS.CompareAndSwap(last, now) {
		f.suppressed.Add(1)
		return
	}
	f.l.Warn(fmt.Sprintf(format, args...), "component", "fasthttp", "suppressed", f.suppressed.Swap(0))
}

// Listen binds the address (port 0 picks a free port); Addr reports it.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	if s.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			ln.Close()
			return err
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	s.ln = ln
	close(s.started)
	return nil
}

// ListenAndServe listens (unless Listen was called) and serves until Shutdown.
func (s *Server) ListenAndServe() error {
	if err := s.Listen(); err != nil {
		return err
	}
	err := s.srv.Serve(s.ln)
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// Addr returns the bound address, after Listen (or once ListenAndServe has
// bound); "" before.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// WaitListening blocks until the server listens or ctx ends.
func (s *Server) WaitListening(ctx context.Context) error {
	select {
	case <-s.started:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SetReady sets what GET /readyz answers (200 or 503); true by default.
func (s *Server) SetReady(ok bool) { s.ready.Store(ok) }

// Shutdown stops accepting, lets in-flight requests finish, and returns.
func (s *Server) Shutdown() error { return s.ShutdownWithContext(context.Background()) }

// ShutdownWithContext is Shutdown bounded by ctx.
func (s *Server) ShutdownWithContext(ctx context.Context) error {
	s.ready.Store(false)
	s.stopFeeds()
	return s.srv.ShutdownWithContext(ctx)
}

// handle is the root handler: routing, panic recovery and metrics.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	route := rNotFound
	defer func() {
		if r := recover(); r != nil {
			// Log the route and the panic, never bodies or keys.
			s.log.Error("api: panic in handler", "route", routeNames[route], "method", string(ctx.Method()),
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			ctx.Response.ResetBody()
			ctx.Response.Header.Del("Retry-After")
			writeCode(ctx, wire.Internal)
		}
		s.m.request(route, ctx.Response.StatusCode(), time.Since(start).Seconds())
	}()
	s.route(ctx, &route)
}

// principal authenticates the request; on failure it answers 401 and
// returns false.
func (s *Server) principal(ctx *fasthttp.RequestCtx) (Principal, bool) {
	if s.keys == nil && s.cfg.InsecureNoAuth {
		return Principal{Role: RoleOperator}, true
	}
	key := presentedKey(ctx.Request.Header.Peek("Authorization"), ctx.Request.Header.Peek("X-API-Key"))
	if len(key) == 0 {
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="accrual"`)
		writeError(ctx, wire.Unauthorized, "missing API key (Authorization: Bearer KEY or X-API-Key)")
		return Principal{}, false
	}
	p, ok := s.keys.Lookup(key)
	if !ok {
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="accrual", error="invalid_token"`)
		writeCode(ctx, wire.Unauthorized)
		return Principal{}, false
	}
	return p, true
}

func forbidden(ctx *fasthttp.RequestCtx, msg string) {
	writeError(ctx, wire.Forbidden, msg)
}

// writeError answers {"error":{"code","message"}} with the code's status.
func writeError(ctx *fasthttp.RequestCtx, code wire.ErrorCode, msg string) {
	writeErrorStatus(ctx, code.Status(), code, msg, "")
}

// writeCode is writeError with the code's default sentence.
func writeCode(ctx *fasthttp.RequestCtx, code wire.ErrorCode) {
	writeError(ctx, code, code.Sentence())
}

// writeErrorLeader is writeError naming the leader's base URL.
func writeErrorLeader(ctx *fasthttp.RequestCtx, code wire.ErrorCode, msg, leader string) {
	writeErrorStatus(ctx, code.Status(), code, msg, leader)
}

// writeErrorStatus answers with a status other than the code's own: only
// the alternatives wire names (wire.StatusNotLeaderRedirect,
// wire.StatusTimeoutReading).
func writeErrorStatus(ctx *fasthttp.RequestCtx, status int, code wire.ErrorCode, msg, leader string) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	var buf [512]byte
	ctx.SetBody(appendErrorJSON(buf[:0], code, msg, leader)) // SetBody copies
}

func appendErrorJSON(b []byte, code wire.ErrorCode, msg, leader string) []byte {
	b = append(b, `{"error":{"code":`...)
	b = appendJSONString(b, string(code))
	b = append(b, `,"message":`...)
	b = appendJSONString(b, msg)
	if leader != "" {
		b = append(b, `,"leader":`...)
		b = appendJSONString(b, leader)
	}
	return append(b, "}}"...)
}

func appendJSONString[S string | []byte](dst []byte, s S) []byte {
	return engine.AppendJSONString(dst, s)
}

// backendError answers a backend error with the right status.
func (s *Server) backendError(ctx *fasthttp.RequestCtx, err error) {
	kind, leader := classify(err)
	switch kind {
	case errNotLeader:
		if leader == "" {
			ctx.Response.Header.Set("Retry-After", "1")
			writeCode(ctx, wire.NoLeader)
			return
		}
		url := leader
		if !hasScheme(url) {
			url = s.scheme + "://" + leader
		}
		ctx.Response.Header.Set("X-Accrual-Leader", url)
		if ctx.IsGet() || ctx.IsHead() {
			ctx.Response.Header.Set("Location", url+string(ctx.RequestURI()))
			writeErrorStatus(ctx, wire.StatusNotLeaderRedirect, wire.NotLeader, wire.NotLeader.Sentence(), url)
			return
		}
		writeErrorLeader(ctx, wire.NotLeader, "this node is not the leader; send to the leader", url)
	case errOverloaded:
		ctx.Response.Header.Set("Retry-After", "1")
		writeCode(ctx, wire.Overloaded)
	case errDiskFull:
		writeError(ctx, wire.DiskFull, err.Error())
	case errNotFoundKind:
		writeCode(ctx, wire.NotFound)
	case errInvalidArg:
		writeError(ctx, wire.Invalid, err.Error())
	case errTimeout:
		writeCode(ctx, wire.Timeout)
	case errNoClock:
		ctx.Response.Header.Set("Retry-After", "1")
		writeCode(ctx, wire.ClockUnsynchronized)
	case errCanceled:
		ctx.Response.Header.Set("Retry-After", "1")
		writeError(ctx, wire.Unavailable, "request canceled; the outcome is unknown, retry with the same ids")
	default:
		s.log.Error("api: backend error", "err", err.Error())
		writeCode(ctx, wire.Internal)
	}
}

func hasScheme(s string) bool {
	return len(s) > 7 && (s[:7] == "http://" || (len(s) > 8 && s[:8] == "https://"))
}
