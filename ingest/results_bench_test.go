package ingest

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkResultRecords builds the results records of a full entry: 4096
// messages of one command each, as `accrual bench --via kafka-results`
// produces them.
func BenchmarkResultRecords(b *testing.B) {
	const messages = 4096
	var e entry
	next := map[partitionKey]int64{}
	line := []byte(`{"id":"p-000001","type":"purchase","member":"m-1","partner":"p1","amount":1250,"at":"2026-01-01T00:00:00Z"}`)
	for i := range messages {
		e.add(&kgo.Record{Topic: "card-tx", Offset: int64(i), Value: line}, next, testNow().UnixMilli())
	}
	res := bytes.Repeat([]byte(`{"id":"p-000001","status":"ok","points":12,"available":340,"pending":0,"held":0}`+"\n"), messages)
	if !e.fill(res) {
		b.Fatal("fill")
	}
	b.ReportAllocs()
	for b.Loop() {
		if recs := resultRecords(&e, "card-tx-results"); len(recs) != messages {
			b.Fatal(len(recs))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*messages), "ns/message")
}
