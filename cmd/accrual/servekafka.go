package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"strings"

	"github.com/accrual/accrual/api/wire"
	"github.com/accrual/accrual/ingest"
	"github.com/accrual/accrual/raft"
	"github.com/hashicorp/go-hclog"
)

// kafkaFlags are serve's Kafka ingest flags (package ingest).
type kafkaFlags struct {
	brokers, topics, resultsTopic string
	sec                           ingest.Security
}

func (k *kafkaFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.brokers, "kafka-brokers", "", "consume commands from Kafka: seed brokers HOST:PORT,… (with --kafka-topics; only the leader consumes)")
	fs.StringVar(&k.topics, "kafka-topics", "", "… the topics T,… whose messages are commands (one, or an NDJSON run), applied exactly once")
	fs.StringVar(&k.resultsTopic, "kafka-results-topic", "", "… produce each message's result lines to this topic (key: the message's; header source: topic/partition/offset)")
	registerKafkaSecurity(fs, &k.sec)
}

// registerKafkaSecurity registers the TLS and SASL flags of a Kafka
// client (serve's ingest, feed's sink) into sec.
func registerKafkaSecurity(fs *flag.FlagSet, sec *ingest.Security) {
	fs.BoolVar(&sec.TLS, "kafka-tls", false, "… connect with TLS (the system roots unless --kafka-tls-ca)")
	fs.StringVar(&sec.CAFile, "kafka-tls-ca", "", "… TLS with this CA (PEM) instead of the system roots")
	fs.StringVar(&sec.CertFile, "kafka-tls-cert", "", "… a client certificate (PEM) for mutual TLS")
	fs.StringVar(&sec.KeyFile, "kafka-tls-key", "", "… and its key (PEM)")
	fs.StringVar(&sec.SASLMechanism, "kafka-sasl-mechanism", "", "… SASL: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	fs.StringVar(&sec.SASLUser, "kafka-sasl-user", "", "… the SASL user (the password: $ACCRUAL_KAFKA_PASSWORD, kept out of the process list)")
}

// consumer is the Kafka consumer of the flags; nil when none is asked for.
func (k kafkaFlags) consumer(node *raft.Node) (*ingest.Consumer, error) {
	if k.brokers == "" && k.topics == "" {
		return nil, nil
	}
	if k.brokers == "" || k.topics == "" {
		return nil, errors.New("serve: --kafka-brokers and --kafka-topics go together")
	}
	k.sec.SASLPass = os.Getenv("ACCRUAL_KAFKA_PASSWORD")
	opts, err := k.sec.Opts()
	if err != nil {
		return nil, err
	}
	return ingest.New(ingest.Config{
		Brokers: splitList(k.brokers), Topics: splitList(k.topics), ResultsTopic: k.resultsTopic, Opts: opts,
		Logger: hclog.New(&hclog.LoggerOptions{Name: "kafka", Level: hclog.Info}),
	}, node)
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// startConsumer runs c (when not nil) until the returned stop is called;
// stop waits for it to end.
func startConsumer(c *ingest.Consumer) (stop func()) {
	if c == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// Kafka is where ingest stands: this node's consumer's view (with the lag
// when it leads), else the replicated offsets alone.
func (b nodeBackend) Kafka() []wire.KafkaPartition {
	var ps []ingest.Partition
	if b.kafka != nil {
		ps = b.kafka.Partitions()
	} else {
		ps = ingest.Partitions(b.n)
	}
	if len(ps) == 0 {
		return nil
	}
	out := make([]wire.KafkaPartition, len(ps))
	for i, p := range ps {
		out[i] = wire.KafkaPartition{Topic: p.Topic, Partition: p.Partition, Next: p.Next, HighWatermark: p.HighWatermark, Lag: p.Lag}
	}
	return out
}
