package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

const topic = "card-tx"

// A 3-node cluster consumes a topic while it is being produced; its leader
// is killed midway. The survivors' balances equal an offline replay of the
// topic's messages in order, and their engines applied exactly as many
// commands as the messages hold: none twice (not even as a duplicate
// answer), none skipped.
func TestExactlyOnceAcrossALeaderKill(t *testing.T) {
	p := loadProgram(t)
	broker := newBroker(t, kfake.SeedTopics(1, topic))
	brokers := broker.ListenAddrs()
	icfg := Config{Brokers: brokers, Topics: []string{topic}, MaxEntryCommands: 64}
	nodes := make([]*testNode, 3)
	for i := range nodes {
		nodes[i] = startNode(t, nodeConfig(t, fmt.Sprint("n", i+1), p, i == 0), icfg)
	}
	defer func() {
		for _, n := range nodes {
			if n != nil {
				n.kill()
			}
		}
	}()
	for _, n := range nodes[1:] {
		waitFor(t, n.cfg.NodeID+" to join", 15*time.Second, func() bool {
			return waitLeader(t, nodes...).AddVoter(n.cfg.NodeID, n.cfg.RaftAddr, n.cfg.HTTPAddr) == nil
		})
	}
	l := waitLeader(t, nodes...)
	msgs := messages(clubLines(t))
	prod := newClient(t, brokers)
	half := len(msgs) / 2
	produce(t, prod, topic, msgs[:half]...)
	waitFor(t, "the leader to consume some", 10*time.Second, func() bool { return offsetOf(l, topic) > 0 })
	killed := l
	for i, n := range nodes {
		if n == killed {
			nodes[i] = nil
		}
	}
	go killed.kill() // while it consumes
	produce(t, prod, topic, msgs[half:]...)
	want, count := replay(p, msgs)
	for _, n := range nodes {
		if n == nil {
			continue
		}
		waitFor(t, "every message applied", 15*time.Second, func() bool { return offsetOf(n, topic) == int64(len(msgs)) })
		sameState(t, n, want)
		if got := n.applied.n.Load(); got != int64(count) {
			t.Fatalf("%s applied %d commands, the topic holds %d", n.cfg.NodeID, got, count)
		}
	}
}

// A node restarted from its data directory resumes at the offsets its
// state holds: the results after the restart answer exactly the messages
// produced after the first run was applied.
func TestRestartResumesAtTheAppliedOffsets(t *testing.T) {
	p := loadProgram(t)
	broker := newBroker(t, kfake.SeedTopics(1, topic, "results"))
	brokers := broker.ListenAddrs()
	icfg := Config{Brokers: brokers, Topics: []string{topic}, ResultsTopic: "results"}
	cfg := nodeConfig(t, "n1", p, true)
	n := startNode(t, cfg, icfg)
	msgs := messages(clubLines(t))
	prod := newClient(t, brokers)
	first := len(msgs) / 3
	produce(t, prod, topic, msgs[:first]...)
	waitFor(t, "the first run applied", 15*time.Second, func() bool { return offsetOf(n, topic) == int64(first) })
	n.kill()
	produce(t, prod, topic, msgs[first:]...)
	n = startNode(t, cfg, icfg)
	defer n.kill()
	waitFor(t, "every message applied", 15*time.Second, func() bool { return offsetOf(n, topic) == int64(len(msgs)) })
	want, _ := replay(p, msgs)
	sameState(t, n, want)
	results := readAll(t, brokers, "results", len(msgs))
	for i, r := range results {
		if src := string(r.Headers[0].Value); src != fmt.Sprintf("%s/0/%d", topic, i) {
			t.Fatalf("result %d answers %s: a message answered twice or skipped", i, src)
		}
	}
}

// Bad messages get the treatment of bad lines on /v1/stream: an error
// result each, nothing applied, and the partition moves on past them.
func TestBadMessagesAnswerInvalidAndMoveOn(t *testing.T) {
	p := loadProgram(t)
	broker := newBroker(t, kfake.SeedTopics(1, topic, "results"))
	brokers := broker.ListenAddrs()
	n := startNode(t, nodeConfig(t, "n1", p, true), Config{Brokers: brokers, Topics: []string{topic}, ResultsTopic: "results"})
	defer n.kill()
	good := `{"type":"purchase","id":"g1","member":"B1","partner":"shop","amount":10000,"at":"2026-01-01T00:00:00Z"}`
	tests := []struct {
		name, value, result string
	}{
		{"not JSON", `{"type":`, `{"id":"","status":"error","error":"invalid"}`},
		{"an empty message", ``, `{"id":"","status":"error","error":"invalid"}`},
		{"an unknown type", `{"type":"bogus","id":"b1"}`, `{"id":"b1","status":"error","error":"invalid"}`},
		{"a quote (a read)", `{"type":"quote","id":"q1","member":"B1","partner":"shop","amount":1}`, `{"id":"q1","status":"error","error":"invalid"}`},
		{"an at in the future", `{"type":"purchase","id":"f1","member":"B2","partner":"shop","amount":10000,"at":"2030-01-01T00:00:00Z"}`,
			`{"id":"f1","status":"error","error":"at_in_future"}`},
		{"a bad line in a run", good + "\n{oops\n" + good, "{\"id\":\"g1\",\"status\":\"ok\"}\n{\"id\":\"\",\"status\":\"error\",\"error\":\"invalid\"}\n{\"id\":\"g1\",\"status\":\"ok\",\"duplicate\":true}"},
	}
	prod := newClient(t, brokers)
	for _, tc := range tests {
		produce(t, prod, topic, []byte(tc.value))
	}
	waitFor(t, "every message passed", 15*time.Second, func() bool { return offsetOf(n, topic) == int64(len(tests)) })
	results := readAll(t, brokers, "results", len(tests))
	for i, tc := range tests {
		got := string(bytes.TrimSuffix(results[i].Value, []byte("\n")))
		if !resultsMatch(got, tc.result) {
			t.Errorf("%s: result %s, want %s", tc.name, got, tc.result)
		}
	}
	if got := n.applied.n.Load(); got != 2 {
		t.Fatalf("%d commands applied, want 2 (the run's good lines)", got)
	}
	if _, _, found, _ := n.Member("B2", 0); found {
		t.Fatal("a rejected command reached the engine")
	}
}

// resultsMatch compares result lines by the fields want names (the
// engine adds points and balances to ok results).
func resultsMatch(got, want string) bool {
	g, w := bytes.Split([]byte(got), []byte("\n")), bytes.Split([]byte(want), []byte("\n"))
	if len(g) != len(w) {
		return false
	}
	for i := range g {
		var gm, wm map[string]any
		if json.Unmarshal(g[i], &gm) != nil || json.Unmarshal(w[i], &wm) != nil {
			return false
		}
		for k, v := range wm {
			if gm[k] != v {
				return false
			}
		}
	}
	return true
}

// Every partition of a topic is consumed, each from its own offsets, and
// the leader reports each partition's high watermark and a lag of 0 once
// all is applied.
func TestEveryPartitionConsumedWithItsLag(t *testing.T) {
	p := loadProgram(t)
	broker := newBroker(t, kfake.SeedTopics(3, topic))
	brokers := broker.ListenAddrs()
	n := startNode(t, nodeConfig(t, "n1", p, true), Config{Brokers: brokers, Topics: []string{topic}})
	defer n.kill()
	prod := newClient(t, brokers)
	const count = 300
	for i := range count {
		v := fmt.Sprintf(`{"type":"purchase","id":"p%d","member":"P%d","partner":"shop","amount":1000,"at":"2026-01-01T00:00:00Z"}`, i, i%37)
		r := &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "P%d", i%37), Value: []byte(v)}
		if err := prod.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	applied := func() bool {
		var sum int64
		for _, o := range n.IngestOffsets() {
			sum += o.Next
		}
		return sum == count
	}
	waitFor(t, "every partition applied", 15*time.Second, applied)
	if got := len(n.IngestOffsets()); got < 2 {
		t.Fatalf("%d partitions consumed, want the messages spread over 2 or 3", got)
	}
	if got := n.applied.n.Load(); got != count {
		t.Fatalf("%d commands applied, want %d", got, count)
	}
	waitFor(t, "lag 0 on every partition", 5*time.Second, func() bool {
		ps := n.consumer.Partitions()
		for _, p := range ps {
			if p.Lag != 0 || p.HighWatermark != p.Next {
				return false
			}
		}
		return len(ps) == len(n.IngestOffsets())
	})
}
