package ingest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/internal/testwait"
	"github.com/accrual/accrual/raft"
	"github.com/cespare/xxhash/v2"
	"github.com/hashicorp/go-hclog"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

var (
	waitFor  = testwait.For // the waits of every cluster test here
	freeAddr = testwait.FreeAddr
)

func loadProgram(t testing.TB) *engine.Program {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "testdata", "conformance", "club.program.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.ParseProgram(src)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// clubLines are the conformance stream's lines: every command kind, some
// quotes and invalid lines among them.
func clubLines(t testing.TB) [][]byte {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "testdata", "conformance", "club.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSpace(src), []byte("\n"))
}

// counter counts the commands a node's engine applies (raft.Observer):
// a message applied twice, even one answered as a duplicate, counts twice.
type counter struct{ n atomic.Int64 }

func (c *counter) Observe(cmds []engine.Command, _ []engine.Result, _ []engine.Entry) {
	c.n.Add(int64(len(cmds)))
}
func (c *counter) Reset() { c.n.Store(-1 << 40) } // a snapshot install: the count means nothing now

type testNode struct {
	*raft.Node
	cfg      raft.Config
	applied  *counter
	consumer *Consumer
	stop     context.CancelFunc
	done     chan struct{}
}

func nodeConfig(t testing.TB, id string, p *engine.Program, bootstrap bool) raft.Config {
	return raft.Config{
		NodeID: id, RaftAddr: freeAddr(t), HTTPAddr: "http-" + id, DataDir: filepath.Join(t.TempDir(), id),
		Bootstrap: bootstrap, Program: p, TickInterval: -1, RecordsInMemory: 64,
		HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond,
		LeaderLeaseTimeout: 150 * time.Millisecond,
		Logger:             hclog.New(&hclog.LoggerOptions{Name: id, Level: hclog.Error, Output: os.Stderr}),
	}
}

// startNode opens a node and runs a consumer on it, as `accrual serve`
// with --kafka-brokers does on every node.
func startNode(t testing.TB, cfg raft.Config, icfg Config) *testNode {
	t.Helper()
	tn := &testNode{cfg: cfg, applied: &counter{}, done: make(chan struct{})}
	cfg.Observer = tn.applied
	var err error
	for range 50 { // the port may be briefly busy after a restart
		if tn.Node, err = raft.Open(cfg); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	icfg.Logger = cfg.Logger
	icfg.Now = testNow
	c, err := New(icfg, tn.Node)
	if err != nil {
		t.Fatal(err)
	}
	tn.consumer = c
	ctx, cancel := context.WithCancel(context.Background())
	tn.stop = cancel
	go func() {
		defer close(tn.done)
		c.Run(ctx)
	}()
	return tn
}

// kill stops the consumer and closes the node.
func (n *testNode) kill() {
	n.stop()
	<-n.done
	n.Close()
}

func waitLeader(t testing.TB, nodes ...*testNode) *testNode {
	t.Helper()
	var l *testNode
	waitFor(t, "a leader", 15*time.Second, func() bool {
		for _, n := range nodes {
			if n != nil && n.IsLeader() {
				l = n
				return true
			}
		}
		return false
	})
	return l
}

func newBroker(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func newClient(t testing.TB, brokers []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// produce writes values to partition 0 of topic, in order.
func produce(t testing.TB, cl *kgo.Client, topic string, values ...[]byte) {
	t.Helper()
	for _, v := range values {
		r := &kgo.Record{Topic: topic, Value: v}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// readAll reads every record of a topic's partitions from the start up to
// n records.
func readAll(t testing.TB, brokers []string, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := newClient(t, brokers, kgo.ConsumeTopics(topic))
	var out []*kgo.Record
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(out) < n {
		f := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of %s", len(out), n, topic)
		}
		out = append(out, f.Records()...)
	}
	return out
}

// testNow is the leader's clock in these tests: after the last command of
// the conformance stream, so none is answered at_in_future, whatever the
// day the tests run.
func testNow() time.Time { return time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC) }

// replay decodes the messages as the consumer does and applies the
// commands it would apply to a fresh engine, in one batch: the offline
// answer. It returns the engine and how many commands it applied.
func replay(p *engine.Program, values [][]byte) (*engine.Engine, int) {
	var e entry
	next := map[partitionKey]int64{}
	for i, v := range values {
		e.add(&kgo.Record{Topic: "replay", Offset: int64(i), Value: v}, next, testNow().UnixMilli())
	}
	eng := engine.NewWithOptions(p, engine.Options{StoreBacked: true})
	eng.Apply(e.cmds, nil, nil)
	return eng, len(e.cmds)
}

// sameState checks a node's state against the offline engine: the state
// hash, and every member's balances as a member page shows them.
func sameState(t testing.TB, n *testNode, want *engine.Engine) {
	t.Helper()
	h := xxhash.New()
	if err := want.Snapshot(h); err != nil {
		t.Fatal(err)
	}
	views, _, _, err := n.MemberPage(context.Background(), "", 1<<20, raft.Stale)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]engine.MemberView{}
	for _, v := range views {
		got[v.Member] = v
	}
	members := 0
	err = want.Dump(func(w *engine.MemberView) error {
		members++
		v, ok := got[w.Member]
		if !ok || v.Available != w.Available || v.Pending != w.Pending || v.Held != w.Held || v.Tier != w.Tier {
			return fmt.Errorf("member %s: node %+v, offline %+v", w.Member, v, *w)
		}
		return nil
	})
	switch {
	case err != nil:
		t.Fatalf("%s: %v", n.cfg.NodeID, err)
	case members == 0 || members != len(views):
		t.Fatalf("%s: %d members, offline %d", n.cfg.NodeID, len(views), members)
	case n.StateHash() != h.Sum64():
		t.Fatalf("%s: state hash %x, offline %x", n.cfg.NodeID, n.StateHash(), h.Sum64())
	}
}

// messages cuts lines into NDJSON runs of 1 to 4 lines.
func messages(lines [][]byte) [][]byte {
	var out [][]byte
	for i := 0; i < len(lines); {
		k := min(1+i%4, len(lines)-i)
		out = append(out, bytes.Join(lines[i:i+k], []byte("\n")))
		i += k
	}
	return out
}

// offsetOf is where a node's replicated state stands in topic/0.
func offsetOf(n *testNode, topic string) int64 {
	for _, o := range n.IngestOffsets() {
		if o.Topic == topic && o.Partition == 0 {
			return o.Next
		}
	}
	return 0
}
