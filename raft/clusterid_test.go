package raft

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// A node that joins takes the cluster's id from the leader and keeps it
// across a restart; a node of another cluster (its own bootstrap, its own
// id) is refused every connection: added by mistake, it never applies an
// entry nor changes its configuration or term.
func TestRaftRefusesAPeerOfAnotherCluster(t *testing.T) {
	p := loadProgram(t, "coalition")
	nodes := startCluster(t, p, 2, nil)
	defer func() { closeAll(nodes) }()
	n1, n2 := nodes[0], nodes[1]
	if _, err := n1.Submit(context.Background(), purchases(t, p, "a", 0, 20)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "n2 replicates", 10*time.Second, func() bool { return n2.AppliedIndex() == n1.AppliedIndex() })
	id := n1.Status().ClusterID
	if len(id) != 32 || n2.Status().ClusterID != id {
		t.Fatalf("cluster ids: n1 %q, n2 %q", id, n2.Status().ClusterID)
	}
	cfg2 := n2.cfg
	n2.Close()
	nodes[1] = startNode(t, cfg2)
	if got := nodes[1].Status().ClusterID; got != id {
		t.Fatalf("after a restart n2 has cluster id %q, want %q", got, id)
	}

	other := startNode(t, testConfig(t, "m1", p, true))
	defer other.Close()
	waitLeader(t, other)
	before := other.Status()
	if before.ClusterID == "" || before.ClusterID == id {
		t.Fatalf("the other cluster's id %q (ours %q)", before.ClusterID, id)
	}
	// A majority of {n1, n2, m1} commits the change without m1; m1 itself
	// must never hear from our cluster. n2's restart may have moved the
	// leadership to it.
	l := waitLeader(t, n1, nodes[1])
	_ = l.AddVoter("m1", other.cfg.RaftAddr, other.cfg.HTTPAddr)
	if _, err := l.Submit(context.Background(), purchases(t, p, "b", 0, 20)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	after := other.Status()
	if after.AppliedIndex != before.AppliedIndex || after.Term != before.Term || len(after.Servers) != 1 || after.ClusterID != before.ClusterID {
		t.Fatalf("the other cluster's node changed: before %+v, after %+v", before, after)
	}
	if other.ids.refused.Load() == 0 {
		t.Fatal("no connection was refused")
	}
}

func TestClusterIDHandshake(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, gen bool) *clusterID {
		d := filepath.Join(dir, name)
		os.MkdirAll(d, 0o700)
		c, err := loadClusterID(d, name, hclog.NewNullLogger())
		if err != nil {
			t.Fatal(err)
		}
		if gen {
			if err := c.generate(); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	shake := func(a, b *clusterID) (errA, errB error) {
		ca, cb := net.Pipe()
		defer ca.Close()
		defer cb.Close()
		done := make(chan error)
		go func() { done <- b.handshake(cb, false) }()
		errA = a.handshake(ca, true)
		return errA, <-done
	}
	x, y, fresh := mk("x", true), mk("y", true), mk("fresh", false)
	if ea, eb := shake(x, y); !errors.Is(ea, ErrOtherCluster) || !errors.Is(eb, ErrOtherCluster) {
		t.Fatalf("two clusters: %v, %v", ea, eb)
	}
	if ea, eb := shake(fresh, mk("fresh2", false)); ea != nil || eb != nil {
		t.Fatalf("two fresh nodes: %v, %v", ea, eb)
	}
	if ea, eb := shake(fresh, x); ea != nil || eb != nil || fresh.String() != x.String() {
		t.Fatalf("a fresh node meets x: %v, %v, adopted %q want %q", ea, eb, fresh.String(), x.String())
	}
	if ea, _ := shake(fresh, y); !errors.Is(ea, ErrOtherCluster) {
		t.Fatalf("after adopting x, y is another cluster: %v", ea)
	}
	again, err := loadClusterID(filepath.Join(dir, "fresh"), "fresh", hclog.NewNullLogger())
	if err != nil || again.String() != x.String() {
		t.Fatalf("kept id %q, %v", again.String(), err)
	}
	// Not an Accrual node: a peer that sends something else.
	ca, cb := net.Pipe()
	go func() {
		cb.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		cb.Close()
	}()
	if err := x.handshake(ca, false); err == nil || !strings.Contains(err.Error(), "not an Accrual node") {
		t.Fatalf("foreign protocol: %v", err)
	}
	os.MkdirAll(filepath.Join(dir, "bad"), 0o700)
	os.WriteFile(filepath.Join(dir, "bad", ClusterIDName), []byte("xyz\n"), 0o600)
	if _, err := loadClusterID(filepath.Join(dir, "bad"), "bad", hclog.NewNullLogger()); err == nil || !strings.Contains(err.Error(), "not a cluster id") {
		t.Fatalf("a damaged id file: %v", err)
	}
}

// A member that presented the cluster id and comes back with none (its
// data directory wiped) is refused on both sides, does not adopt the id,
// and is let in once it has left the configuration (remove, then add).
func TestClusterIDRefusesAMemberThatLostItsData(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string) *clusterID {
		d := filepath.Join(dir, name)
		os.MkdirAll(d, 0o700)
		c, err := loadClusterID(d, "w", hclog.NewNullLogger())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	shake := func(a, b *clusterID) (errA, errB error) {
		ca, cb := net.Pipe()
		defer ca.Close()
		defer cb.Close()
		done := make(chan error)
		go func() { done <- b.handshake(cb, false) }()
		errA = a.handshake(ca, true)
		return errA, <-done
	}
	os.MkdirAll(filepath.Join(dir, "l"), 0o700)
	leader, err := loadClusterID(filepath.Join(dir, "l"), "l", hclog.NewNullLogger())
	if err == nil {
		err = leader.generate()
	}
	if err != nil {
		t.Fatal(err)
	}
	w := mk("w1")
	if ea, eb := shake(leader, w); ea != nil || eb != nil {
		t.Fatalf("first join: %v, %v", ea, eb)
	}
	if ea, eb := shake(leader, w); ea != nil || eb != nil {
		t.Fatalf("w presents the id: %v, %v", ea, eb)
	}
	// The leader restarts: its record is on disk.
	leader, err = loadClusterID(filepath.Join(dir, "l"), "l", hclog.NewNullLogger())
	if err != nil || !leader.seen["w"] {
		t.Fatalf("record after a restart: %v, %v", leader.seen, err)
	}
	wiped := mk("w2") // same node id, empty data directory
	ea, eb := shake(leader, wiped)
	if !errors.Is(ea, ErrLostData) || !errors.Is(eb, ErrLostData) || wiped.String() != "" {
		t.Fatalf("wiped member: %v, %v, adopted %q", ea, eb, wiped.String())
	}
	if !strings.Contains(eb.Error(), "remove it and add it again") {
		t.Fatalf("the wiped node's error does not say how to rejoin: %v", eb)
	}
	leader.pruneMembers([]string{"l", "x"}) // w removed from the configuration
	if ea, eb := shake(leader, wiped); ea != nil || eb != nil || wiped.String() != leader.String() {
		t.Fatalf("after remove, added again: %v, %v", ea, eb)
	}
}

// Rule: a member record written before the crc32c line is kept (an
// upgrade does not stop the node) and written again with the line; one
// whose line disagrees with its ids is refused, naming the file.
func TestMemberRecordChecksum(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, MembersName)
	if err := os.WriteFile(path, []byte("n2\nn3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadClusterID(dir, "n1", hclog.NewNullLogger())
	if err != nil || !c.seen["n2"] || !c.seen["n3"] {
		t.Fatalf("a record without a crc32c line: %v, seen %v", err, c.seen)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), membersSumPrefix) {
		t.Fatalf("the record was not written again with its line: %q", b)
	}
	b[1] ^= 0x01 // n2 -> n3: still a plausible id
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = loadClusterID(dir, "n1", hclog.NewNullLogger())
	var ce *CorruptDataError
	if !errors.As(err, &ce) || ce.File != path {
		t.Fatalf("a record whose id changed: %v; want a CorruptDataError naming %s", err, path)
	}
}
