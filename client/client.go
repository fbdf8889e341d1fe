package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/accrual/accrual/api/wire"
)

// Client talks to one Accrual server (and follows the leader when asked).
type Client struct {
	mu           sync.Mutex
	base         string
	key          string
	hc           *http.Client
	followLeader bool
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the http.Client (default: a client with a 60 s timeout).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithFollowLeader makes the client switch to the leader named by a
// not_leader answer and resend the request there once (safe: ids are
// idempotency keys).
func WithFollowLeader() Option { return func(c *Client) { c.followLeader = true } }

// New returns a client of the server at baseURL ("http://host:port") using
// an API key ("" for a server without keys).
func New(baseURL, key string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), key: key,
		hc: &http.Client{Timeout: 60 * time.Second}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// BaseURL returns the server the client currently talks to.
func (c *Client) BaseURL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base
}

// Error is an error answer of the API: {"error":{"code","message"}}.
type Error struct {
	Status     int            // HTTP status (0 for an error line in a stream)
	Code       wire.ErrorCode // wire.NotLeader, wire.Overloaded, …, a SPEC code ("insufficient_points"), or "http_<status>" for a non-API answer
	Message    string         //
	Leader     string         // for not_leader: the leader's base URL
	RetryAfter time.Duration  // from Retry-After
	Result     *Result        // for a rejected single command: its result
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("accrual: %d %s: %s", e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("accrual: %s: %s", e.Code, e.Message)
}

// Retryable reports whether resending the same request (same ids) may
// succeed (wire.ErrorCode.Retryable): overloaded, not_leader, no_leader,
// timeout, unavailable.
func (e *Error) Retryable() bool { return e.Code.Retryable() }

// IsCode reports whether err is an *Error with this code.
func IsCode(err error, code wire.ErrorCode) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Result is one command's result (SPEC §6).
type Result struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Error     string `json:"error,omitempty"`
	Points    int64  `json:"points"`
	Available int64  `json:"available"`
	Pending   int64  `json:"pending"`
	Held      int64  `json:"held,omitempty"`
	Tier      string `json:"tier,omitempty"`
	Discount  int64  `json:"discount,omitempty"`
	Duplicate bool   `json:"duplicate,omitempty"`
	// Raw is the result line as the server wrote it.
	Raw json.RawMessage `json:"-"`
}

// OK reports whether the command was accepted.
func (r *Result) OK() bool { return r.Status == "ok" }

// MemberLots is a member's points expiring in one month.
type MemberLots = wire.MemberLots

// Member is GET /v1/members/{id}.
type Member = wire.Member

func (c *Client) newRequest(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL()+path, body)
	if err != nil {
		return nil, err
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req, nil
}

// parseError turns a non-2xx answer into an *Error.
func parseError(resp *http.Response, body []byte) *Error {
	var doc wire.ErrorAnswer
	e := &Error{Status: resp.StatusCode}
	if json.Unmarshal(body, &doc) == nil && doc.Error.Code != "" {
		e.Code, e.Message, e.Leader = doc.Error.Code, doc.Error.Message, doc.Error.Leader
		if len(doc.Result) > 0 {
			var r Result
			if json.Unmarshal(doc.Result, &r) == nil {
				r.Raw = doc.Result
				e.Result = &r
			}
		}
	} else {
		e.Code, e.Message = wire.ErrorCode("http_"+strconv.Itoa(resp.StatusCode)), strings.TrimSpace(string(body))
	}
	if e.Leader == "" {
		e.Leader = resp.Header.Get("X-Accrual-Leader")
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil {
			e.RetryAfter = time.Duration(s) * time.Second
		}
	}
	return e
}

// do sends a request with a replayable body and returns the 2xx body.
func (c *Client) do(ctx context.Context, method, path string, body []byte, contentType string) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := c.newRequest(ctx, method, path, rd, contentType)
		if err != nil {
			return nil, err
		}
		resp, err := c.noRedirect().Do(req)
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return data, nil
		}
		e := parseError(resp, data)
		if c.followLeader && attempt == 0 && e.Code == wire.NotLeader && e.Leader != "" {
			c.mu.Lock()
			c.base = strings.TrimRight(e.Leader, "/")
			c.mu.Unlock()
			continue
		}
		return nil, e
	}
}

// noRedirect returns the http.Client with redirects off: a 307 to the
// leader is handled by do (it knows whether to follow).
func (c *Client) noRedirect() *http.Client {
	hc := *c.hc
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// Submit sends a batch of commands (JSON objects, at most 8192) to POST
// /v1/commands and returns one result per command, in order. Rejections
// are results, not errors; an error means the batch's outcome is unknown
// (resend it unchanged) unless it is a 4xx about the request itself.
func (c *Client) Submit(ctx context.Context, cmds []json.RawMessage) ([]Result, error) {
	size := 2
	for _, m := range cmds {
		size += len(m) + 1
	}
	body := make([]byte, 0, size)
	body = append(body, '[')
	for i, m := range cmds {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, m...)
	}
	body = append(body, ']')
	data, err := c.do(ctx, http.MethodPost, "/v1/commands", body, "application/json")
	if err != nil {
		return nil, err
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, fmt.Errorf("accrual: decoding results: %w", err)
	}
	if len(raws) != len(cmds) {
		return nil, fmt.Errorf("accrual: %d results for %d commands", len(raws), len(cmds))
	}
	out := make([]Result, len(raws))
	for i, r := range raws {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return nil, fmt.Errorf("accrual: decoding result %d: %w", i, err)
		}
		out[i].Raw = r
	}
	return out, nil
}

// SubmitLines sends NDJSON command lines (one command per line) as one
// batch; see Submit.
func (c *Client) SubmitLines(ctx context.Context, ndjson []byte) ([]Result, error) {
	var cmds []json.RawMessage
	for _, l := range bytes.Split(ndjson, []byte{'\n'}) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			cmds = append(cmds, l)
		}
	}
	return c.Submit(ctx, cmds)
}

// Stream sends NDJSON commands from r to POST /v1/stream and calls fn with
// each result as it arrives, in order. An error line from the server (not
// leader, overloaded, timeout) ends the stream with an *Error: the results
// delivered before it are final; resend the rest unchanged.
func (c *Client) Stream(ctx context.Context, r io.Reader, fn func(Result) error) error {
	req, err := c.newRequest(ctx, http.MethodPost, "/v1/stream", r, "application/x-ndjson")
	if err != nil {
		return err
	}
	hc := c.noRedirect()
	hc.Timeout = 0 // a stream runs as long as its input
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return parseError(resp, data)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		if bytes.HasPrefix(line, []byte(`{"error":`)) {
			var doc wire.ErrorAnswer
			if json.Unmarshal(line, &doc) == nil && doc.Error.Code != "" {
				return &Error{Code: doc.Error.Code, Message: doc.Error.Message, Leader: doc.Error.Leader}
			}
		}
		var res Result
		if err := json.Unmarshal(line, &res); err != nil {
			return fmt.Errorf("accrual: decoding a stream result: %w", err)
		}
		res.Raw = append(json.RawMessage(nil), line...)
		if err := fn(res); err != nil {
			return err
		}
	}
	return sc.Err()
}

// Command sends one command to a convenience route, e.g. Command(ctx,
// "purchases", obj) or Command(ctx, "holds/h1/capture", obj). body is the
// command without "type" (json.RawMessage, []byte or any JSON-encodable
// value). A rejected command returns an *Error whose Result is set.
func (c *Client) Command(ctx context.Context, route string, body any) (Result, error) {
	b, err := encode(body)
	if err != nil {
		return Result{}, err
	}
	data, err := c.do(ctx, http.MethodPost, "/v1/"+route, b, "application/json")
	if err != nil {
		return Result{}, err
	}
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return Result{}, err
	}
	r.Raw = data
	return r, nil
}

func encode(body any) ([]byte, error) {
	switch v := body.(type) {
	case json.RawMessage:
		return v, nil
	case []byte:
		return v, nil
	case string:
		return []byte(v), nil
	}
	return json.Marshal(body)
}

// Quote asks what a purchase would earn (POST /v1/quote); it changes nothing.
func (c *Client) Quote(ctx context.Context, cmd any) (Result, error) {
	return c.Command(ctx, "quote", cmd)
}

// Member reads a member without its lots (see MemberWithLots); consistency
// is "linearizable" (default when ""), "leader" or "stale".
func (c *Client) Member(ctx context.Context, id, consistency string) (*Member, error) {
	return c.member(ctx, id, consistency, false)
}

// MemberWithLots reads a member as Member does, with its lots grouped by
// the month they expire in (lots=true; Member leaves Lots nil).
func (c *Client) MemberWithLots(ctx context.Context, id, consistency string) (*Member, error) {
	return c.member(ctx, id, consistency, true)
}

func (c *Client) member(ctx context.Context, id, consistency string, lots bool) (*Member, error) {
	q := url.Values{}
	if consistency != "" {
		q.Set("consistency", consistency)
	}
	if lots {
		q.Set("lots", "true")
	}
	path := "/v1/members/" + url.PathEscape(id)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return getAs[Member](ctx, c, path)
}

// Statement reads one page of a member's ledger entries; pass the page's
// Next as cursor for the following page.
func (c *Client) Statement(ctx context.Context, member, cursor string, limit int) (*wire.Statement, error) {
	q := url.Values{}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := "/v1/members/" + url.PathEscape(member) + "/statement"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return getAs[wire.Statement](ctx, c, path)
}

// Balance reads a member's balance as of a time (GET
// /v1/members/{id}/balance; the zero time: now).
func (c *Client) Balance(ctx context.Context, member string, at time.Time) (*wire.Balance, error) {
	path := "/v1/members/" + url.PathEscape(member) + "/balance"
	if !at.IsZero() {
		path += "?at=" + url.QueryEscape(at.UTC().Format(time.RFC3339Nano))
	}
	return getAs[wire.Balance](ctx, c, path)
}

// CommandEntries reads the ledger entries a command wrote (GET
// /v1/commands/{id}).
func (c *Client) CommandEntries(ctx context.Context, id string) (*wire.CommandEntries, error) {
	return getAs[wire.CommandEntries](ctx, c, "/v1/commands/"+url.PathEscape(id))
}

// Settlement reads a partner's figures over [from, to) (GET
// /v1/partners/{id}/settlement; zero times: the server's defaults).
func (c *Client) Settlement(ctx context.Context, partner string, from, to time.Time) (*wire.Settlement, error) {
	q := url.Values{}
	if !from.IsZero() {
		q.Set("from", from.UTC().Format(time.RFC3339Nano))
	}
	if !to.IsZero() {
		q.Set("to", to.UTC().Format(time.RFC3339Nano))
	}
	path := "/v1/partners/" + url.PathEscape(partner) + "/settlement"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return getAs[wire.Settlement](ctx, c, path)
}

// Members reads one page of all members in id byte order (GET
// /v1/members), those with ids greater than after ("": from the first);
// limit 0 is the server's default (100), consistency "" linearizable. Pass
// the page's Next as after for the following page; Next is "" on the last.
func (c *Client) Members(ctx context.Context, after string, limit int, consistency string) (*wire.Members, error) {
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if consistency != "" {
		q.Set("consistency", consistency)
	}
	path := "/v1/members"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return getAs[wire.Members](ctx, c, path)
}

// Stats reads the program's running totals (GET /v1/stats).
func (c *Client) Stats(ctx context.Context) (*wire.Stats, error) {
	return getAs[wire.Stats](ctx, c, "/v1/stats")
}

// Cluster reads the answering node's view of the cluster (GET /v1/cluster).
func (c *Client) Cluster(ctx context.Context) (*wire.Status, error) {
	return getAs[wire.Status](ctx, c, "/v1/cluster")
}

// getAs reads a GET endpoint into T.
func getAs[T any](ctx context.Context, c *Client, path string) (*T, error) {
	data, err := c.do(ctx, http.MethodGet, path, nil, "")
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("accrual: decoding %s: %w", path, err)
	}
	return v, nil
}

// Get reads any GET endpoint (path like "/v1/cluster") as raw JSON.
func (c *Client) Get(ctx context.Context, path string) (json.RawMessage, error) {
	return c.do(ctx, http.MethodGet, path, nil, "")
}
