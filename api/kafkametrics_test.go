package api

import (
	"strings"
	"testing"

	"github.com/accrual/accrual/api/wire"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type kafkaParts []wire.KafkaPartition

func (k kafkaParts) Kafka() []wire.KafkaPartition { return k }

// /metrics exports each partition's offset, high watermark and lag, and
// leaves out what is unknown (-1: a follower has no lag).
func TestKafkaMetricsExportKnownValuesOnly(t *testing.T) {
	parts := kafkaParts{
		{Topic: "card-tx", Partition: 0, Next: 90, HighWatermark: 100, Lag: 10},
		{Topic: "card-tx", Partition: 1, Next: 7, HighWatermark: -1, Lag: -1},
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(kafkaCollector{parts})
	want := `
# HELP accrual_kafka_high_watermark Kafka ingest: the partition's end at the leader's last fetch (leader only).
# TYPE accrual_kafka_high_watermark gauge
accrual_kafka_high_watermark{partition="0",topic="card-tx"} 100
# HELP accrual_kafka_lag_messages Kafka ingest: messages of the partition not applied yet (leader only).
# TYPE accrual_kafka_lag_messages gauge
accrual_kafka_lag_messages{partition="0",topic="card-tx"} 10
# HELP accrual_kafka_next_offset Kafka ingest: the offset of the first message not applied, per partition (replicated).
# TYPE accrual_kafka_next_offset gauge
accrual_kafka_next_offset{partition="0",topic="card-tx"} 90
accrual_kafka_next_offset{partition="1",topic="card-tx"} 7
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}
