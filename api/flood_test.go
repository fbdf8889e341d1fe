package api_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/accrual/accrual/api"
)

// dialFrom opens a TCP connection to addr from the loopback address src
// (on Linux all of 127/8 is loopback, so 127.0.0.2 is another client IP).
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, src, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedBy reads c until the server closes it (at most wait) and returns
// what it sent; it fails if c is still open after wait.
func closedBy(t *testing.T, c net.Conn, wait time.Duration) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	b, err := io.ReadAll(c)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("connection from %s still open after %v (read %q)", c.LocalAddr(), wait, b)
		}
		// A reset after the server's close is a close too.
		if !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
			t.Fatalf("read: %v", err)
		}
	}
	return string(b)
}

// stillOpen reports whether the server keeps c open (a short read times
// out instead of seeing EOF).
func stillOpen(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	var b [1]byte
	_, err := c.Read(b[:])
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// healthz sends GET /healthz from src on a fresh connection and returns
// the status line.
func healthz(t *testing.T, src, addr string) string {
	t.Helper()
	c := dialFrom(t, src, addr)
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "no answer: " + err.Error()
	}
	resp.Body.Close()
	return resp.Status
}

// TestConnectionFlood: one address opens more connections than
// MaxConnsPerIP and holds them without sending a byte (slowloris). The
// server refuses the extra ones (429, closed), keeps answering another
// address while the flood holds its connections, refuses everyone past
// Concurrency (503), and is back to normal once the flood lets go.
func TestConnectionFlood(t *testing.T) {
	const perIP, total = 8, 12
	e := newEnv(t, func(c *api.Config) {
		c.MaxConnsPerIP = perIP
		c.Concurrency = total
		c.HeaderTimeout = 20 * time.Second // the flood must outlive the test's checks
	})
	addr := strings.TrimPrefix(e.base, "http://")

	var flood []net.Conn
	for range perIP {
		flood = append(flood, dialFrom(t, "127.0.0.1", addr))
	}
	// The accept loop handles connections in order: once an extra one is
	// refused, the held ones before it were all accepted.
	for i := range 4 {
		extra := dialFrom(t, "127.0.0.1", addr)
		if got := closedBy(t, extra, 3*time.Second); !strings.HasPrefix(got, "HTTP/1.1 429") {
			t.Fatalf("extra connection %d from the flooding address: got %q, want a 429 and a close", i, got)
		}
	}
	for i, c := range flood {
		if !stillOpen(c) {
			t.Fatalf("flood connection %d closed early: the per-IP cap let fewer than %d through", i, perIP)
		}
	}

	// Another address is served while the flood holds its connections.
	if got := healthz(t, "127.0.0.2", addr); got != "200 OK" {
		t.Fatalf("GET /healthz from 127.0.0.2 during the flood: %s", got)
	}

	// Fill the total cap from other addresses: the next connection, from
	// an address with no connection at all, is refused with 503.
	for i := range total - perIP {
		flood = append(flood, dialFrom(t, fmt.Sprintf("127.0.0.%d", 3+i), addr))
	}
	over := dialFrom(t, "127.0.0.20", addr)
	if got := closedBy(t, over, 3*time.Second); !strings.HasPrefix(got, "HTTP/1.1 503") {
		t.Fatalf("connection past the total cap: got %q, want a 503 and a close", got)
	}

	for _, c := range flood {
		c.Close()
	}
	// The server sees the closes asynchronously; within a few seconds the
	// flooding address is served again, and can open perIP connections.
	deadline := time.Now().Add(5 * time.Second)
	for healthz(t, "127.0.0.1", addr) != "200 OK" {
		if time.Now().After(deadline) {
			t.Fatal("127.0.0.1 still refused 5s after its flood closed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for !holdsAll(t, "127.0.0.1", addr, perIP) {
		if time.Now().After(deadline) {
			t.Fatalf("127.0.0.1 cannot hold %d connections 5s after its flood closed", perIP)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// holdsAll opens n connections from src and reports whether the server
// keeps all of them open; it closes them before returning.
func holdsAll(t *testing.T, src, addr string, n int) bool {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		conns = append(conns, dialFrom(t, src, addr))
	}
	for _, c := range conns {
		if !stillOpen(c) {
			return false
		}
	}
	return true
}

// TestSlowHeaders: a connection that sends half a request line and stalls,
// and one that sends nothing, are closed after HeaderTimeout; an idle
// keep-alive connection after IdleTimeout; oversized headers answer 431.
func TestSlowHeaders(t *testing.T) {
	e := newEnv(t, func(c *api.Config) {
		c.HeaderTimeout = 300 * time.Millisecond
		c.IdleTimeout = 300 * time.Millisecond
	})
	addr := strings.TrimPrefix(e.base, "http://")

	half := dialFrom(t, "127.0.0.1", addr)
	fmt.Fprint(half, "GET /heal")
	silent := dialFrom(t, "127.0.0.1", addr)
	start := time.Now()
	if got := closedBy(t, half, 5*time.Second); !strings.HasPrefix(got, "HTTP/1.1 408") || !strings.Contains(got, `"code":"timeout"`) {
		t.Errorf("half a request line: got %q, want a 408 timeout before the close", got)
	}
	if got := closedBy(t, silent, 5*time.Second); !strings.HasPrefix(got, "HTTP/1.1 408") {
		t.Errorf("silent connection: got %q, want a 408 before the close", got)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("stalled connections closed after %v with a 300 ms header timeout", took)
	}

	idle := dialFrom(t, "127.0.0.1", addr)
	fmt.Fprintf(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(idle)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("keep-alive GET /healthz: %v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := br.Read(make([]byte, 1)); n != 0 || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("idle keep-alive connection: read %d bytes, %v; want the server's close", n, err)
	}

	big := dialFrom(t, "127.0.0.1", addr)
	big.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(big, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n", strings.Repeat("a", 20<<10))
	if got := closedBy(t, big, 5*time.Second); !strings.HasPrefix(got, "HTTP/1.1 431") || !strings.Contains(got, `"code":"headers_too_large"`) {
		t.Errorf("20 KiB header: got %q, want a 431 headers_too_large", got)
	}
	e.expect("GET", "/healthz", "", "", 200)
}
