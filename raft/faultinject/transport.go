package faultinject

import (
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	hraft "github.com/hashicorp/raft"
)

var (
	errPartitioned = errors.New("raft faults: peer partitioned")
	errDropped     = errors.New("raft faults: message dropped")
)

// wrapStream puts a faultLayer over the stream layer below it (TCP): the
// seam raft.Seams.Stream, so TLS, when on, runs over it.
func (w *watch) wrapStream(below hraft.StreamLayer) hraft.StreamLayer {
	fl := &faultLayer{StreamLayer: below, w: w, conns: map[*faultConn]struct{}{}}
	w.notify(fl.cut)
	return fl
}

// faultLayer applies the Rules to the connections of the stream layer
// below it (TCP).
type faultLayer struct {
	hraft.StreamLayer
	w *watch

	mu    sync.Mutex
	conns map[*faultConn]struct{}
}

var _ hraft.StreamLayer = (*faultLayer)(nil)

func (f *faultLayer) Accept() (net.Conn, error) {
	c, err := f.StreamLayer.Accept()
	if err != nil {
		return nil, err
	}
	return f.track(&faultConn{Conn: c, f: f, peer: "*"}), nil
}

func (f *faultLayer) Dial(address hraft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	peer := string(address)
	if f.w.rules.Load().blocked(peer) {
		// Look like an unreachable host, after a short wait (no busy loop).
		time.Sleep(min(timeout, 100*time.Millisecond))
		return nil, errPartitioned
	}
	c, err := f.StreamLayer.Dial(address, timeout)
	if err != nil {
		return nil, err
	}
	return f.track(&faultConn{Conn: c, f: f, peer: peer, dialed: true}), nil
}

func (f *faultLayer) track(c *faultConn) *faultConn {
	f.mu.Lock()
	f.conns[c] = struct{}{}
	f.mu.Unlock()
	return c
}

func (f *faultLayer) untrack(c *faultConn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
}

// cut closes the open connections to peers that r blocks.
func (f *faultLayer) cut(r *Rules) {
	f.mu.Lock()
	var cut []*faultConn
	for c := range f.conns {
		if c.dialed && r.blocked(c.peer) {
			cut = append(cut, c)
		}
	}
	f.mu.Unlock()
	for _, c := range cut {
		c.Close()
	}
}

// faultConn applies the rules to one connection.
type faultConn struct {
	net.Conn
	f      *faultLayer
	peer   string // Raft address when dialed, "*" when accepted
	dialed bool
	once   sync.Once
}

func (c *faultConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.f.untrack(c) })
	return err
}

func (c *faultConn) Write(p []byte) (int, error) {
	r := c.f.w.rules.Load()
	if c.dialed && r.blocked(c.peer) {
		c.Close()
		return 0, errPartitioned
	}
	if d := r.delay(c.peer); d > 0 {
		time.Sleep(d)
	}
	if p := r.drop(c.peer); p > 0 && rand.Float64() < p {
		c.Close()
		return 0, errDropped
	}
	return c.Conn.Write(p)
}

func (c *faultConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.dialed && c.f.w.rules.Load().blocked(c.peer) {
		c.Close()
		return 0, errPartitioned
	}
	return n, err
}
