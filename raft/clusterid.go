package raft

// Cluster identity on the Raft transport. hraft itself accepts any peer
// that speaks its protocol: a node of another cluster pointed at this one
// by mistake (a wrong address in a join, a reused host) would take part in
// elections and overwrite logs. So every connection starts with a hello
// (hello.go), in both directions: a magic, the 16-byte cluster id and the
// node's id. A node refuses a connection whose peer belongs to another
// cluster, as etcd checks its cluster id on every message. Mutual TLS
// (tls.go) adds authentication on top; the id check holds with or without
// it.
//
// The id is made when a node bootstraps a cluster and kept in
// DATA/cluster-id. A node that joins has none yet: it adopts (and keeps)
// the id of the first peer that presents one, which is the leader adding
// it. A node with no id on either side accepts the connection (two fresh
// nodes have nothing to tell apart).
//
// A node that lost its data. Each node also keeps, in DATA/cluster-members,
// the ids of the peers it has seen present the cluster id (every node
// samples every peer's clock each second, clocksample.go, so every node
// meets every peer). The record ends with a crc32c line, checked at open (a damaged
// record stops the node: it could forget a member or invent one). A
// peer that was such a member and now presents no id
// has lost what it acknowledged (a wiped or replaced disk): were it let
// in under its old id, it would vote for any candidate and count in a
// quorum for entries it no longer holds, and a committed entry could
// disappear. It is refused, and both sides log how to rejoin: remove it
// from the cluster, then add it again as a new member; it then catches
// up by snapshot. An id leaves the record when it leaves the Raft
// configuration (pruneMembers), so the member added again is let in.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// ClusterIDName is the cluster id's file name in a node's data directory.
const ClusterIDName = "cluster-id"

// MembersName is the file, in a node's data directory, of the peers seen
// holding the cluster id.
const MembersName = "cluster-members"

// handshakeTimeout bounds a hello exchange (hello.go).
const handshakeTimeout = 5 * time.Second

// ErrOtherCluster: the peer presented another cluster's id.
var ErrOtherCluster = errors.New("raft: peer belongs to another cluster")

// ErrLostData: the peer was a member holding the cluster's state and now
// presents none; it must be removed and added again.
var ErrLostData = errors.New("raft: peer lost the data it held as a member")

type clusterID struct {
	path    string
	members string // path of DATA/cluster-members
	nodeID  string
	log     hclog.Logger
	// wallMS is this node's wall clock, sent to a clock probe.
	wallMS func() int64

	mu    sync.Mutex
	id    [16]byte
	known bool
	seen  map[string]bool // peers seen presenting the id (DATA/cluster-members)

	lastWarnMS atomic.Int64 // refusals are logged at most every 10 s
	refused    atomic.Int64
}

func loadClusterID(dataDir, nodeID string, log hclog.Logger) (*clusterID, error) {
	c := &clusterID{path: filepath.Join(dataDir, ClusterIDName), members: filepath.Join(dataDir, MembersName),
		nodeID: nodeID, log: log, seen: map[string]bool{}, wallMS: func() int64 { return time.Now().UnixMilli() }}
	if err := c.loadMembers(); err != nil {
		return nil, err
	}
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
	if err := writeFileSync(c.path, hex.EncodeToString(id[:])+"\n"); err != nil {
		return fmt.Errorf("raft: keep cluster id: %w", err)
	}
	c.id, c.known = id, true
	return nil
}

// writeFileSync replaces path with text, durably (temp file, sync,
// rename).
func writeFileSync(path, text string) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	return err
}

// membersSumPrefix starts the last line of DATA/cluster-members: the
// crc32c (Castagnoli) of every byte before that line. A damaged record
// could forget a member (and let it back in after it lost its data) or
// invent one; so it is checked at open, and a mismatch stops the node.
const membersSumPrefix = "crc32c "

// membersRemedy: the record is local and relearned from the peers' hellos
// within seconds, so the file can simply go.
const membersRemedy = "delete it and start the node again: it records its peers again from their hellos within seconds"

func (c *clusterID) loadMembers() error {
	b, err := os.ReadFile(c.members)
	if errors.Is(err, os.ErrNotExist) || err == nil && len(b) == 0 {
		return nil
	}
	if err != nil {
		return err
	}
	body, sum, ok := bytes.Cut(b, []byte(membersSumPrefix))
	want := fmt.Sprintf("%08x\n", crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
	if ok && (string(sum) != want || len(body) > 0 && body[len(body)-1] != '\n') {
		return &CorruptDataError{File: c.members, Err: errors.New("its crc32c line differs from its contents"), Remedy: membersRemedy}
	}
	for _, id := range strings.Fields(string(body)) {
		c.seen[id] = true
	}
	if !ok {
		// A record written before the crc32c line (or whose line lost its
		// prefix: then the ids are intact, and the line's words become
		// ids no peer presents) is kept, and written again with the line.
		return c.saveMembersLocked()
	}
	return nil
}

func (c *clusterID) saveMembersLocked() error {
	ids := make([]string, 0, len(c.seen))
	for id := range c.seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	text := strings.Join(ids, "\n")
	if text != "" {
		text += "\n"
	}
	text += fmt.Sprintf("%s%08x\n", membersSumPrefix, crc32.Checksum([]byte(text), crc32.MakeTable(crc32.Castagnoli)))
	if err := writeFileSync(c.members, text); err != nil {
		return fmt.Errorf("raft: keep %s: %w", MembersName, err)
	}
	return nil
}

// pruneMembers forgets the peers no longer in the Raft configuration
// (voters lists it), so that one removed and added again is let in. An
// empty configuration (not known yet) prunes nothing.
func (c *clusterID) pruneMembers(voters []string) {
	if len(voters) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	changed := false
	for id := range c.seen {
		if !contains(voters, id) {
			delete(c.seen, id)
			changed = true
		}
	}
	if changed {
		if err := c.saveMembersLocked(); err != nil {
			c.log.Warn("could not prune the member record", "err", err)
		}
	}
}

// verdict is a node's answer to a peer's hello.
type verdict byte

const (
	verdictOK verdict = iota
	verdictOtherCluster
	verdictLostData
)

// check judges a peer's hello; it changes nothing.
func (c *clusterID) check(p peerHello) verdict {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case p.cluster == [16]byte{}:
		if c.known && p.node != "" && c.seen[p.node] {
			return verdictLostData
		}
	case c.known && p.cluster != c.id:
		return verdictOtherCluster
	}
	return verdictOK
}

// accept takes in a peer judged verdictOK: this node adopts the peer's id
// while it has none, and records the peer when it presents the id.
func (c *clusterID) accept(p peerHello, remote net.Addr) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p.cluster == [16]byte{} {
		return nil
	}
	if !c.known {
		if err := c.setLocked(p.cluster); err != nil {
			return err
		}
		c.log.Info("joined cluster", "cluster_id", hex.EncodeToString(p.cluster[:]), "from", remote.String())
	}
	if p.node == "" || p.node == c.nodeID || c.seen[p.node] {
		return nil
	}
	c.seen[p.node] = true
	return c.saveMembersLocked()
}

// refuse is the error of a verdict against a peer, logged (at most every
// 10 s) with what to do.
func (c *clusterID) refuse(v verdict, p peerHello, remote net.Addr) error {
	c.refused.Add(1)
	if v == verdictLostData {
		c.warn("refused a node that lost its data: it was a member holding this cluster's state and now presents none "+
			"(a wiped or replaced data directory); it must not vote or count in a quorum under its old id. "+
			"Rejoin it as a new member: accrual cluster remove --id "+p.node+", then accrual cluster add --id "+p.node+
			" --raft-addr … --http-addr …; it then catches up by snapshot", "node", p.node, "peer", remote.String())
		return fmt.Errorf("%w: node %s (%s); remove it and add it again", ErrLostData, p.node, remote)
	}
	c.warn("refused a Raft peer of another cluster", "peer", remote.String(),
		"peer_cluster_id", hex.EncodeToString(p.cluster[:]), "cluster_id", c.String())
	return fmt.Errorf("%w (%s)", ErrOtherCluster, remote)
}

// refusedBy is the error of a peer's verdict against this node.
func (c *clusterID) refusedBy(v verdict, p peerHello, remote net.Addr) error {
	c.refused.Add(1)
	if v == verdictLostData {
		c.warn("the cluster refuses this node: it was a member of cluster "+hex.EncodeToString(p.cluster[:])+
			" and its data directory has lost that state. On any member run: accrual cluster remove --id "+c.nodeID+
			", then accrual cluster add --id "+c.nodeID+" --raft-addr … --http-addr …; this node then catches up by snapshot",
			"peer", remote.String())
		return fmt.Errorf("%w: this node (%s), refused by %s; remove it and add it again", ErrLostData, c.nodeID, remote)
	}
	c.warn("a peer of another cluster refused this node", "peer", remote.String())
	return fmt.Errorf("%w (%s)", ErrOtherCluster, remote)
}

// warn logs at most every 10 s.
func (c *clusterID) warn(msg string, args ...any) {
	now := time.Now().UnixMilli()
	if last := c.lastWarnMS.Load(); now-last >= 10_000 && c.lastWarnMS.CompareAndSwap(last, now) {
		c.log.Warn(msg, append(args, "refused_so_far", c.refused.Load())...)
	}
}
