package chaos

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/accrual/accrual/raft/faultinject"
)

// proc is one `accrual serve` child process and what it needs to restart.
type proc struct {
	id, http, raft, data string
	args                 []string // serve arguments for (re)starts
	bin                  string
	env                  []string
	logPath              string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	paused bool
	starts int

	// mustRejoin: p refused its data and is being rejoined as a new member
	// (rejoin); only the fault loop and heal, one after the other, use it.
	mustRejoin bool
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return nil
	}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "=== start %d at %s: %s %s\n", p.starts+1, time.Now().Format(time.RFC3339Nano), p.bin, strings.Join(p.args, " "))
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(append(os.Environ(), p.env...), "ACCRUAL_FAULTS=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	p.cmd, p.done, p.paused = cmd, done, false
	p.starts++
	return nil
}

// running reports whether the process is up (maybe paused).
func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// signal sends sig and, for SIGKILL/SIGTERM, waits for the exit (SIGKILL
// after grace for SIGTERM).
func (p *proc) signal(sig syscall.Signal, grace time.Duration) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	switch sig {
	case syscall.SIGSTOP:
		_ = cmd.Process.Signal(sig)
		p.mu.Lock()
		p.paused = true
		p.mu.Unlock()
		return
	case syscall.SIGCONT:
		_ = cmd.Process.Signal(sig)
		p.mu.Lock()
		p.paused = false
		p.mu.Unlock()
		return
	}
	if sig == syscall.SIGTERM {
		_ = cmd.Process.Signal(syscall.SIGCONT)
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-done
	}
	p.mu.Lock()
	p.cmd, p.paused = nil, false
	p.mu.Unlock()
}

func (p *proc) isPaused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}

// writeFaults replaces the node's faults control file atomically.
func (p *proc) writeFaults(r faultinject.Rules) error {
	b, _ := json.Marshal(r)
	tmp := filepath.Join(p.data, "faults.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(p.data, "faults.json"))
}

// cluster is the set of nodes plus an HTTP client that knows them.
type cluster struct {
	procs  []*proc
	key    string
	scheme string      // "http", or "https" when the run uses TLS
	tls    *tls.Config // the client side of HTTPS (nil: plain HTTP)
	client *http.Client
}

func (c *cluster) newHTTPClient(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:     c.tls,
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// do sends one request; status 0 means no answer (connection error, timeout).
func (c *cluster) do(ctx context.Context, method, url string, body []byte) (int, http.Header, []byte) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, nil
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil
	}
	return resp.StatusCode, resp.Header, b
}

// status is the part of GET /v1/cluster (raft.Status) the harness uses.
type status struct {
	ID, State, LeaderID, LeaderHTTP string
	Term, CommitIndex, AppliedIndex uint64
	Servers                         []struct{ ID string }
	Clock                           struct{ EngineMS int64 }
}

func (c *cluster) status(ctx context.Context, p *proc) (status, bool) {
	var s status
	code, _, b := c.do(ctx, "GET", c.url(p)+"/v1/cluster", nil)
	if code != 200 || json.Unmarshal(b, &s) != nil {
		return s, false
	}
	return s, true
}

// leader returns the index of the node that says it is leader, or -1.
func (c *cluster) leader(ctx context.Context) int {
	for i, p := range c.procs {
		if !p.running() || p.isPaused() {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		s, ok := c.status(cctx, p)
		cancel()
		if ok && s.State == "Leader" {
			return i
		}
	}
	return -1
}

// url is the base URL of node p's API.
func (c *cluster) url(p *proc) string { return c.scheme + "://" + p.http }

// baseURL is addr with the cluster's scheme unless it names one.
func (c *cluster) baseURL(addr string) string {
	addr = strings.TrimRight(addr, "/")
	if strings.Contains(addr, "://") {
		return addr
	}
	return c.scheme + "://" + addr
}

// errorBody is an API error answer.
type errorBody struct {
	Error struct {
		Code, Message, Leader string
	} `json:"error"`
}
