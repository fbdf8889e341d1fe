package raft

// The hello that starts every connection on the Raft port (see
// clusterid.go for why). Version 2: the magic, the 16-byte cluster id
// (zeros while unknown), a kind byte, and the node's id (one length byte,
// then the id). A Raft connection ('R') is answered by the acceptor's own
// hello, then the dialer sends its verdict byte, so that an acceptor never
// adopts an id from a dialer that refuses it. A clock probe ('C',
// clocksample.go) is answered by the acceptor's hello and its wall clock
// (8 bytes, Unix ms, big-endian), then closed: it never reaches hraft.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	hraft "github.com/hashicorp/raft"
)

// helloMagic starts every connection (version 2 of the hello).
const helloMagic = "ACRLRFT2"

const (
	helloRaft  byte = 'R'
	helloClock byte = 'C'
)

// helloFixed is the hello's length up to the node id.
const helloFixed = len(helloMagic) + 16 + 2

// errProbeAnswered ends an accepted clock probe; hraft sees io.EOF and
// logs nothing.
var errProbeAnswered = io.EOF

// peerHello is what a peer's hello says.
type peerHello struct {
	cluster [16]byte
	kind    byte
	node    string
}

func (c *clusterID) hello(kind byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.nodeID[:min(len(c.nodeID), 255)]
	b := make([]byte, 0, helloFixed+len(id))
	b = append(b, helloMagic...)
	b = append(b, c.id[:]...) // zeros while unknown
	b = append(b, kind, byte(len(id)))
	return append(b, id...)
}

func readHello(conn net.Conn) (peerHello, error) {
	var p peerHello
	var b [helloFixed]byte
	if _, err := io.ReadFull(conn, b[:]); err != nil {
		return p, fmt.Errorf("raft: hello from %s: %w", conn.RemoteAddr(), err)
	}
	if !bytes.Equal(b[:len(helloMagic)], []byte(helloMagic)) {
		return p, fmt.Errorf("raft: %s is not an Accrual node of this version (no hello %s)", conn.RemoteAddr(), helloMagic)
	}
	copy(p.cluster[:], b[len(helloMagic):])
	p.kind = b[helloFixed-2]
	id := make([]byte, b[helloFixed-1])
	if _, err := io.ReadFull(conn, id); err != nil {
		return p, fmt.Errorf("raft: hello from %s: %w", conn.RemoteAddr(), err)
	}
	p.node = string(id)
	return p, nil
}

// handshake exchanges hellos on a fresh Raft connection: the dialer
// speaks first, the acceptor answers with its own hello, the dialer sends
// its verdict on it, then the acceptor checks the dialer's. A clock probe
// is answered on the acceptor's side (errProbeAnswered).
func (c *clusterID) handshake(conn net.Conn, dialer bool) error {
	if err := conn.SetDeadline(time.Now().Add(handshakeTimeout)); err != nil {
		return err
	}
	var err error
	if dialer {
		err = c.dialHandshake(conn)
	} else {
		err = c.acceptHandshake(conn)
	}
	if err != nil {
		return err
	}
	return conn.SetDeadline(time.Time{})
}

func (c *clusterID) dialHandshake(conn net.Conn) error {
	if _, err := conn.Write(c.hello(helloRaft)); err != nil {
		return err
	}
	p, err := readHello(conn)
	if err != nil {
		return err
	}
	v := c.check(p)
	if _, err := conn.Write([]byte{byte(v)}); err != nil {
		return err
	}
	if v != verdictOK {
		return c.refuse(v, p, conn.RemoteAddr())
	}
	return c.accept(p, conn.RemoteAddr())
}

func (c *clusterID) acceptHandshake(conn net.Conn) error {
	p, err := readHello(conn)
	if err != nil {
		return err
	}
	if p.kind == helloClock {
		return c.answerProbe(conn)
	}
	if _, err := conn.Write(c.hello(helloRaft)); err != nil {
		return err
	}
	var v [1]byte
	if _, err := io.ReadFull(conn, v[:]); err != nil {
		return fmt.Errorf("raft: verdict from %s: %w", conn.RemoteAddr(), err)
	}
	if verdict(v[0]) != verdictOK {
		return c.refusedBy(verdict(v[0]), p, conn.RemoteAddr())
	}
	if v := c.check(p); v != verdictOK {
		return c.refuse(v, p, conn.RemoteAddr())
	}
	return c.accept(p, conn.RemoteAddr())
}

// answerProbe sends this node's hello and wall clock to a clock probe.
func (c *clusterID) answerProbe(conn net.Conn) error {
	b := c.hello(helloClock)
	b = binary.BigEndian.AppendUint64(b, uint64(c.wallMS()))
	if _, err := conn.Write(b); err != nil {
		return err
	}
	return errProbeAnswered
}

// probe samples a peer's wall clock on a fresh connection: it returns the
// peer's hello, its wall clock in Unix ms and this node's monotonic
// readings (mono) just before sending and just after receiving. A peer
// that lost its data or belongs to another cluster is refused (and
// logged) as on a Raft connection; one that presents the id is recorded
// as a member.
func (c *clusterID) probe(conn net.Conn, mono func() time.Duration, timeout time.Duration) (p peerHello, wallMS int64, sent, received time.Duration, err error) {
	if err = conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return
	}
	sent = mono()
	if _, err = conn.Write(c.hello(helloClock)); err != nil {
		return
	}
	if p, err = readHello(conn); err != nil {
		return
	}
	var w [8]byte
	if _, err = io.ReadFull(conn, w[:]); err != nil {
		return
	}
	received = mono()
	wallMS = int64(binary.BigEndian.Uint64(w[:]))
	if v := c.check(p); v != verdictOK {
		err = c.refuse(v, p, conn.RemoteAddr())
		return
	}
	if p.cluster != [16]byte{} {
		err = c.accept(p, conn.RemoteAddr())
	}
	return
}

// idLayer wraps a stream layer with the hello. Dialed connections finish
// it in Dial; accepted ones on their first read or write, so that a slow
// peer never holds up hraft's accept loop.
type idLayer struct {
	hraft.StreamLayer
	ids *clusterID
}

func (l *idLayer) Accept() (net.Conn, error) {
	conn, err := l.StreamLayer.Accept()
	if err != nil {
		return nil, err
	}
	return &idConn{Conn: conn, ids: l.ids}, nil
}

func (l *idLayer) Dial(address hraft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	conn, err := l.StreamLayer.Dial(address, timeout)
	if err != nil {
		return nil, err
	}
	ic := &idConn{Conn: conn, ids: l.ids, dialer: true}
	if err := ic.handshake(); err != nil {
		conn.Close()
		return nil, err
	}
	return ic, nil
}

type idConn struct {
	net.Conn
	ids    *clusterID
	dialer bool
	once   sync.Once
	err    error
}

func (c *idConn) handshake() error {
	c.once.Do(func() { c.err = c.ids.handshake(c.Conn, c.dialer) })
	return c.err
}

func (c *idConn) Read(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		c.Conn.Close()
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *idConn) Write(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		c.Conn.Close()
		return 0, err
	}
	return c.Conn.Write(b)
}
