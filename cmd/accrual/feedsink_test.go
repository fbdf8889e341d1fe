package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/accrual/accrual/client"
	"github.com/accrual/accrual/feedsink"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// --to is kafka://HOST:PORT[,HOST:PORT…]/TOPIC: anything else is refused
// naming the form.
func TestFeedToMustBeAKafkaURL(t *testing.T) {
	for _, tc := range []struct {
		to      string
		brokers []string
		topic   string
	}{
		{"kafka://127.0.0.1:9092/changes", []string{"127.0.0.1:9092"}, "changes"},
		{"kafka://a:9092,b:9093/changes", []string{"a:9092", "b:9093"}, "changes"},
		{"", nil, ""},
		{"127.0.0.1:9092/changes", nil, ""},
		{"http://127.0.0.1:9092/changes", nil, ""},
		{"kafka://127.0.0.1:9092", nil, ""},
		{"kafka://127.0.0.1:9092/a/b", nil, ""},
	} {
		brokers, topic, err := parseKafkaURL(tc.to)
		if tc.topic == "" {
			if err == nil || !strings.Contains(err.Error(), "kafka://HOST:PORT") {
				t.Errorf("%q: accepted or error %v not naming the form", tc.to, err)
			}
			continue
		}
		if err != nil || topic != tc.topic || strings.Join(brokers, " ") != strings.Join(tc.brokers, " ") {
			t.Errorf("%q: %v %q %v, want %v %q", tc.to, brokers, topic, err, tc.brokers, tc.topic)
		}
	}
}

// TestFeedSurvivesKill: `accrual feed` killed with SIGKILL while it
// publishes a node's feed, then started again on the same cursor file,
// leaves every seq in the topic at least once and in order: no record's
// seq is past the highest before it plus one.
func TestFeedSurvivesKill(t *testing.T) {
	n := startNode(t, "n1", t.TempDir())
	key := n.key(t)
	waitOK(t, "POST", "http://"+n.http+"/v1/purchases", key, `{"id":"warm","member":"m0","partner":"grocer","amount":1000}`) // the node is up
	c := client.New("http://"+n.http, key)
	purchase(t, c, 0, 200)
	broker, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "changes"))
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	cursor := filepath.Join(t.TempDir(), "cursor")
	args := []string{"feed", "--from", n.http, "--to", "kafka://" + broker.ListenAddrs()[0] + "/changes",
		"--cursor-file", cursor, "--key", key, "--batch", "2"}

	first := startFeed(t, args)
	for got, _ := feedsink.LoadCursor(cursor); got < 60; got, _ = feedsink.LoadCursor(cursor) {
		time.Sleep(time.Millisecond)
	}
	_ = first.Process.Kill()
	_, _ = first.Process.Wait()
	if got, _ := feedsink.LoadCursor(cursor); got > 150 {
		t.Fatalf("the first feed reached seq %d before its kill: the kill is not mid-way", got)
	}
	purchase(t, c, 200, 220)

	second := startFeed(t, args)
	last, err := lastSeq(c)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if got, _ := feedsink.LoadCursor(cursor); got == last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restarted feed did not reach seq %d", last)
		}
	}
	_ = second.Process.Signal(syscall.SIGTERM)
	if err := second.Wait(); err != nil {
		t.Fatalf("feed on SIGTERM: %v", err)
	}
	seqs := topicRecords(t, broker, int(last))
	var high uint64
	for i, seq := range seqs {
		if seq > high+1 {
			t.Fatalf("record %d holds seq %d after seqs up to %d: a gap", i, seq, high)
		}
		high = max(high, seq)
	}
	if high != last {
		t.Fatalf("the topic's records reach seq %d, the feed %d", high, last)
	}
	t.Logf("%d seqs in %d records", last, len(seqs))
}

func startFeed(t *testing.T, args []string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "ACCRUAL_TEST_MAIN=1")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	return cmd
}

// purchase applies purchases from to to-1 in one request.
func purchase(t *testing.T, c *client.Client, from, to int) {
	t.Helper()
	var cmds []json.RawMessage
	for i := from; i < to; i++ {
		cmds = append(cmds, json.RawMessage(fmt.Sprintf(`{"type":"purchase","id":"p%d","member":"m%d","partner":"grocer","amount":1000}`, i, i%5)))
	}
	if _, err := c.Submit(context.Background(), cmds); err != nil {
		t.Fatal(err)
	}
}

// lastSeq is the seq of the feed's last change.
func lastSeq(c *client.Client) (uint64, error) {
	var last uint64
	err := c.Changes(context.Background(), client.ChangesQuery{}, func(ch *client.Change) error {
		last = ch.Seq
		return nil
	})
	return last, err
}

// topicRecords reads the topic whole (up to want records, or what comes
// within 200 ms): the seq (key) of each record, in order.
func topicRecords(t *testing.T, broker *kfake.Cluster, want int) []uint64 {
	kc, err := kgo.NewClient(kgo.SeedBrokers(broker.ListenAddrs()...), kgo.ConsumeTopics("changes"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	var seqs []uint64
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	for ctx.Err() == nil && (want == 0 || len(seqs) < want) {
		kc.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			seq, _ := strconv.ParseUint(string(r.Key), 10, 64)
			seqs = append(seqs, seq)
		})
	}
	return seqs
}
