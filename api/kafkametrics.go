package api

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	kafkaNextDesc = prometheus.NewDesc("accrual_kafka_next_offset",
		"Kafka ingest: the offset of the first message not applied, per partition (replicated).", []string{"topic", "partition"}, nil)
	kafkaHighDesc = prometheus.NewDesc("accrual_kafka_high_watermark",
		"Kafka ingest: the partition's end at the leader's last fetch (leader only).", []string{"topic", "partition"}, nil)
	kafkaLagDesc = prometheus.NewDesc("accrual_kafka_lag_messages",
		"Kafka ingest: messages of the partition not applied yet (leader only).", []string{"topic", "partition"}, nil)
)

// kafkaCollector exports a backend's Kafka ingest at scrape time; the
// partitions are labels, so it is a collector, not fixed gauges.
type kafkaCollector struct{ k KafkaReporter }

func (c kafkaCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- kafkaNextDesc
	ch <- kafkaHighDesc
	ch <- kafkaLagDesc
}

func (c kafkaCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.k.Kafka() {
		part := strconv.Itoa(int(p.Partition))
		if p.Next >= 0 {
			ch <- prometheus.MustNewConstMetric(kafkaNextDesc, prometheus.GaugeValue, float64(p.Next), p.Topic, part)
		}
		if p.HighWatermark >= 0 {
			ch <- prometheus.MustNewConstMetric(kafkaHighDesc, prometheus.GaugeValue, float64(p.HighWatermark), p.Topic, part)
		}
		if p.Lag >= 0 {
			ch <- prometheus.MustNewConstMetric(kafkaLagDesc, prometheus.GaugeValue, float64(p.Lag), p.Topic, part)
		}
	}
}
