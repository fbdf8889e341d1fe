package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	viaTopic        = "accrual-bench"
	viaResultsTopic = "accrual-bench-results"
	viaPollEvery    = 10 * time.Millisecond // of /v1/cluster, for the end of the Kafka run
)

// runViaKafka starts a kfake broker in this process and the node consuming
// its topic, produces every message in one transaction (the node reads
// committed records only, so it sees none of them until the commit), then
// commits and times the node until its replicated offset passes the last
// message.
func runViaKafka(ctx context.Context, cfg ViaConfig, programFile string, lines [][]byte) (ViaResult, error) {
	topics := []string{viaTopic}
	if cfg.Results {
		topics = append(topics, viaResultsTopic)
	}
	broker, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topics...))
	if err != nil {
		return ViaResult{}, err
	}
	defer broker.Close()
	addr := strings.Join(broker.ListenAddrs(), ",")
	args := cfg.ServeArgs
	if args == "" {
		args = DefaultServeArgs
	}
	args += " --kafka-brokers " + addr + " --kafka-topics " + viaTopic
	if cfg.Results {
		args += " --kafka-results-topic " + viaResultsTopic
	}
	nodes, err := StartNodes(ctx, cfg.Bin, 1, args, cfg.Dir, programFile, cfg.Key)
	if err != nil {
		return ViaResult{}, err
	}
	defer nodes.Stop()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.TransactionalID("accrual-bench"),
		kgo.DefaultProduceTopic(viaTopic), kgo.MaxBufferedRecords(1<<20), kgo.ProducerBatchMaxBytes(1<<20))
	if err != nil {
		return ViaResult{}, err
	}
	defer cl.Close()
	res := ViaResult{Via: "kafka", Commands: int64(len(lines)), Results: cfg.Results}
	last, err := produceInTxn(ctx, cl, lines, &res.Messages)
	if err != nil {
		return res, err
	}
	from, start, err := markStart(ctx, nodes, cfg.Key)
	if err != nil {
		return res, err
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return res, fmt.Errorf("kafka: commit the stream: %w", err)
	}
	if err := waitOffset(ctx, nodes.URLs[0], cfg.Key, last+1); err != nil {
		return res, fmt.Errorf("%w (logs in %s)", err, cfg.Dir)
	}
	return res, res.finish(ctx, start, from, nodes, cfg.Key)
}

// produceInTxn produces the lines, one command a message (one card
// transaction, as a bank's pipeline would put them), inside a
// transaction it leaves open, and returns the offset of the last message.
func produceInTxn(ctx context.Context, cl *kgo.Client, lines [][]byte, messages *int64) (int64, error) {
	if err := cl.BeginTransaction(); err != nil {
		return 0, err
	}
	var last atomic.Int64
	var firstErr atomic.Pointer[error]
	for _, line := range lines {
		cl.Produce(ctx, &kgo.Record{Value: bytes.TrimSuffix(line, []byte("\n"))}, func(r *kgo.Record, err error) {
			if err != nil {
				firstErr.CompareAndSwap(nil, &err)
				return
			}
			for cur := last.Load(); r.Offset > cur && !last.CompareAndSwap(cur, r.Offset); cur = last.Load() {
			}
		})
		*messages++
	}
	if err := cl.Flush(ctx); err != nil {
		return 0, err
	}
	if p := firstErr.Load(); p != nil {
		return 0, fmt.Errorf("kafka: produce the stream: %w", *p)
	}
	return last.Load(), nil
}

// nodeStatus is the part of GET /v1/cluster the runs read.
type nodeStatus struct {
	AppliedIndex uint64
	Kafka        []struct {
		Topic string
		Next  int64
	}
}

func readStatus(ctx context.Context, base, key string) (nodeStatus, error) {
	var st nodeStatus
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/cluster", nil)
	if err != nil {
		return st, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /v1/cluster: HTTP %d", resp.StatusCode)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// waitOffset polls GET /v1/cluster until the node's replicated offset in
// the topic reaches next (5 minutes at most).
func waitOffset(ctx context.Context, base, key string, next int64) error {
	deadline := time.Now().Add(5 * time.Minute)
	var at int64
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if st, err := readStatus(ctx, base, key); err == nil {
			for _, p := range st.Kafka {
				if p.Topic == viaTopic {
					at = p.Next
				}
			}
			if at >= next {
				return nil
			}
		}
		time.Sleep(viaPollEvery)
	}
	return fmt.Errorf("kafka: the node's offset is %d, not %d, after 5 minutes", at, next)
}
