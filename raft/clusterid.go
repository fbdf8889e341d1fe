package raft

// Cluster identity on the Raft transport. hraft itself accepts any peer
// that speaks its protocol: a node of another cluster pointed at this one
// by mistake (a wrong address in a join, a reused host) would take part in
// elections and overwrite logs. So every connection starts with a hello,
// in both directions: a magic and the 16-byte cluster id. A node refuses a
// connection whose peer belongs to another cluster, as etcd checks its
// cluster id on every message. Mutual TLS (tls.go) adds authentication on
// top; the id check holds with or without it.
//
// The id is made when a node bootstraps a cluster and kept in
// DATA/cluster-id. A node that joins has none yet: it adopts (and keeps)
// the id of the first peer that presents one, which is the leader adding
// it. A node with no id on either side accepts the connection (two fresh
// nodes have nothing to tell apart).

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
)

// ClusterIDName is the cluster id's file name in a node's data directory.
const ClusterIDName = "cluster-id"

// helloMagic starts every Raft connection (version 1 of the hello).
const helloMagic = "ACRLRFT1"

const helloLen = len(helloMagic) + 16

// handshakeTimeout bounds a hello exchange.
const handshakeTimeout = 5 * time.Second

// ErrOtherCluster: the peer presented another cluster's id.
var ErrOtherCluster = errors.New("raft: peer belongs to another cluster")

type clusterID struct {
	path string
	log  hclog.Logger

	mu    sync.Mutex
	id    [16]byte
	known bool

	lastWarnMS atomic.Int64 // refusals are logged at most every 10 s
	refused    atomic.Int64
}

func loadClusterID(dataDir string, log hclog.Logger) (*clusterID, error) {
	c := &clusterID{path: filepath.Join(dataDir, ClusterIDName), log: log}
	b, err := os.ReadFile(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	s := strings.TrimSpace(string(b))
	if n, err := hex.Decode(c.id[:], []byte(s)); err != nil || n != 16 || len(s) != 32 {
		return nil, fmt.Errorf("raft: %s: not a cluster id (32 hex digits): %q", c.path, s)
	}
	c.known = true
	return c, nil
}

// String is the id in hex, "" while unknown.
func (c *clusterID) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.known {
		return ""
	}
	return hex.EncodeToString(c.id[:])
}

// generate makes a new id (a node bootstrapping a cluster).
func (c *clusterID) generate() error {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.setLocked(id)
}

func (c *clusterID) setLocked(id [16]byte) error {
	tmp := c.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(hex.EncodeToString(id[:]) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, c.path)
	}
	if err != nil {
		return fmt.Errorf("raft: keep cluster id: %w", err)
	}
	c.id, c.known = id, true
	return nil
}

func (c *clusterID) hello() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := make([]byte, 0, helloLen)
	b = append(b, helloMagic...)
	return append(b, c.id[:]...) // zeros while unknown
}

// admit checks a peer's id, adopting it while this node has none.
func (c *clusterID) admit(peer [16]byte, remote net.Addr) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case peer == [16]byte{}:
		return nil
	case !c.known:
		if err := c.setLocked(peer); err != nil {
			return err
		}
		c.log.Info("joined cluster", "cluster_id", hex.EncodeToString(peer[:]), "from", remote.String())
		return nil
	case peer != c.id:
		n := c.refused.Add(1)
		now := time.Now().UnixMilli()
		if last := c.lastWarnMS.Load(); now-last >= 10_000 && c.lastWarnMS.CompareAndSwap(last, now) {
			c.log.Warn("refused a Raft peer of another cluster", "peer", remote.String(),
				"peer_cluster_id", hex.EncodeToString(peer[:]), "cluster_id", hex.EncodeToString(c.id[:]), "refused_so_far", n)
		}
		return fmt.Errorf("%w (%s)", ErrOtherCluster, remote)
	}
	return nil
}

// handshake exchanges hellos on a fresh connection: the dialer speaks
// first, the acceptor answers with its own hello, also when it refuses the
// dialer (so both sides log the refusal), then each checks the other's.
func (c *clusterID) handshake(conn net.Conn, dialer bool) error {
	if err := conn.SetDeadline(time.Now().Add(handshakeTimeout)); err != nil {
		return err
	}
	var b [helloLen]byte
	if dialer {
		if _, err := conn.Write(c.hello()); err != nil {
			return err
		}
	}
	if _, err := io.ReadFull(conn, b[:]); err != nil {
		return fmt.Errorf("raft: hello from %s: %w", conn.RemoteAddr(), err)
	}
	if !bytes.Equal(b[:len(helloMagic)], []byte(helloMagic)) {
		return fmt.Errorf("raft: %s is not an Accrual node (no hello)", conn.RemoteAddr())
	}
	var peer [16]byte
	copy(peer[:], b[len(helloMagic):])
	if !dialer {
		if _, err := conn.Write(c.hello()); err != nil {
			return err
		}
	}
	if err := c.admit(peer, conn.RemoteAddr()); err != nil {
		return err
	}
	return conn.SetDeadline(time.Time{})
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
