package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/accrual/accrual/client"
	"github.com/accrual/accrual/feedsink"
	"github.com/accrual/accrual/ingest"
	"github.com/twmb/franz-go/pkg/kgo"
)

// cmdFeed is `accrual feed`: it publishes a node's change feed to a Kafka
// topic at least once until SIGINT or SIGTERM (package feedsink).
func cmdFeed(args []string, stderr io.Writer) error {
	ctx, stop := signalContext()
	defer stop()
	err := runFeed(ctx, args, stderr)
	if errors.Is(err, context.Canceled) {
		return nil // stopped: the cursor file says where a restart resumes
	}
	return err
}

func runFeed(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("feed", flag.ContinueOnError)
	from := fs.String("from", "127.0.0.1:8080", "HTTP address (or URL) of any node: every replica serves the same feed")
	to := fs.String("to", "", "kafka://HOST:PORT[,HOST:PORT…]/TOPIC: the seed brokers and the topic (its partition 0 gets every record)")
	key := fs.String("key", os.Getenv("ACCRUAL_KEY"), "operator or readonly key (default $ACCRUAL_KEY)")
	cursorFile := fs.String("cursor-file", "", "where the cursor (the last seq the broker acknowledged) is kept; created on the first batch")
	batch := fs.Int("batch", feedsink.DefaultBatch, "changes per read and produce")
	var sec ingest.Security
	registerKafkaSecurity(fs, &sec)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cursorFile == "" {
		return errors.New("feed: --cursor-file is required: without it a restart would publish the feed from its start")
	}
	brokers, topic, err := parseKafkaURL(*to)
	if err != nil {
		return err
	}
	sec.SASLPass = os.Getenv("ACCRUAL_KAFKA_PASSWORD")
	opts, err := sec.Opts()
	if err != nil {
		return err
	}
	kc, err := kgo.NewClient(append(append(opts, feedsink.Opts()...), kgo.SeedBrokers(brokers...))...)
	if err != nil {
		return fmt.Errorf("feed: %w", err)
	}
	defer kc.Close()
	after, err := feedsink.LoadCursor(*cursorFile)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "feed: publishing %s's changes after seq %d to %s\n", httpURL(*from), after, *to)
	return feedsink.Run(ctx, feedsink.Config{Feed: client.New(httpURL(*from), *key), Kafka: kc,
		Topic: topic, CursorFile: *cursorFile, Batch: *batch})
}

// parseKafkaURL splits --to, kafka://HOST:PORT[,HOST:PORT…]/TOPIC, into
// the seed brokers and the topic.
func parseKafkaURL(s string) (brokers []string, topic string, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "kafka" || u.Host == "" {
		return nil, "", fmt.Errorf("feed: --to must be kafka://HOST:PORT[,HOST:PORT…]/TOPIC, not %q", s)
	}
	topic = strings.TrimPrefix(u.Path, "/")
	if topic == "" || strings.Contains(topic, "/") {
		return nil, "", fmt.Errorf("feed: --to %q must name one topic after the brokers (kafka://HOST:PORT/TOPIC)", s)
	}
	return splitList(u.Host), topic, nil
}
