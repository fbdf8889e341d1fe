package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// HTTPTarget posts each batch as a JSON array to POST {URL}/v1/commands with
// "Authorization: Bearer KEY" and turns the JSON array of results back into
// NDJSON. It uses net/http directly so that it depends on nothing but the
// wire protocol.
type HTTPTarget struct {
	name   string
	urls   []string // one per node; batches go round robin
	key    string
	client *http.Client
	next   atomic.Uint64
	pids   []int
}

// NewHTTPTarget returns a target for the nodes at urls (e.g. http://127.0.0.1:8080).
func NewHTTPTarget(name string, urls []string, key string, conns int) *HTTPTarget {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * len(urls),
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     0,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	for i := range urls {
		urls[i] = strings.TrimRight(urls[i], "/")
	}
	return &HTTPTarget{name: name, urls: urls, key: key, client: &http.Client{Transport: tr}}
}

// Name implements Target.
func (t *HTTPTarget) Name() string { return t.name }

// SetPIDs names the server processes whose usage goes into the report.
func (t *HTTPTarget) SetPIDs(pids []int) { t.pids = pids }

// PIDs implements Processes.
func (t *HTTPTarget) PIDs() []int { return t.pids }

// httpError is a failed batch with an error code for the report.
type httpError struct {
	status int
	code   string
	msg    string
}

func (e *httpError) Error() string { return fmt.Sprintf("HTTP %d %s: %s", e.status, e.code, e.msg) }
func (e *httpError) Code() string  { return e.code }

func (t *HTTPTarget) base() string {
	return t.urls[t.next.Add(1)%uint64(len(t.urls))]
}

// Submit implements Target.
func (t *HTTPTarget) Submit(ctx context.Context, lines [][]byte, dst []byte) ([]byte, error) {
	n := 2
	for _, l := range lines {
		n += len(l) + 1
	}
	body := make([]byte, 0, n)
	body = append(body, '[')
	for i, l := range lines {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, l...)
	}
	body = append(body, ']')
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base()+"/v1/commands", bytes.NewReader(body))
	if err != nil {
		return dst, err
	}
	req.Header.Set("Content-Type", "application/json")
	if t.key != "" {
		req.Header.Set("Authorization", "Bearer "+t.key)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return dst, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return dst, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &e)
		if e.Error == "" {
			e.Error = fmt.Sprintf("http_%d", resp.StatusCode)
		}
		return dst, &httpError{status: resp.StatusCode, code: e.Error, msg: e.Message}
	}
	start := len(dst)
	var count int
	dst, count, err = appendResultLines(dst, data)
	if err != nil {
		return dst[:start], &httpError{status: resp.StatusCode, code: "bad_response", msg: err.Error()}
	}
	if count != len(lines) {
		return dst[:start], &httpError{status: resp.StatusCode, code: "bad_response",
			msg: fmt.Sprintf("%d results for %d commands", count, len(lines))}
	}
	return dst, nil
}

// Balance implements BalanceReader: GET /v1/members/{id}?consistency=linearizable.
func (t *HTTPTarget) Balance(ctx context.Context, member string) (MemberBalance, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		t.urls[0]+"/v1/members/"+url.PathEscape(member)+"?consistency=linearizable", nil)
	if err != nil {
		return MemberBalance{}, false, err
	}
	if t.key != "" {
		req.Header.Set("Authorization", "Bearer "+t.key)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return MemberBalance{}, false, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return MemberBalance{}, false, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return MemberBalance{}, false, nil
	}
	if resp.StatusCode != http.StatusOK {
		return MemberBalance{}, false, fmt.Errorf("GET member %s: HTTP %d: %s", member, resp.StatusCode, bytes.TrimSpace(data))
	}
	var b MemberBalance
	if err := json.Unmarshal(data, &b); err != nil {
		return MemberBalance{}, false, err
	}
	return b, true, nil
}

// Close implements Target.
func (t *HTTPTarget) Close() error {
	t.client.CloseIdleConnections()
	return nil
}
