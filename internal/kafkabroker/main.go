// Command kafkabroker serves a Kafka-protocol broker on loopback (franz-go's
// kfake, in memory) for scripts/kcat-ingest.sh, so the kcat check runs from
// a fresh clone without a Kafka installation. A test tool, not a product:
// nothing is persisted, and it stops on SIGINT or SIGTERM.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 19092, "TCP port on 127.0.0.1")
	partitions := flag.Int("partitions", 1, "partitions of each topic")
	topics := flag.String("topics", "card-tx,card-tx-results", "topics to create, T,…")
	flag.Parse()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(*port),
		kfake.SeedTopics(int32(*partitions), strings.Split(*topics, ",")...))
	if err != nil {
		fmt.Fprintln(os.Stderr, "kafkabroker:", err)
		os.Exit(1)
	}
	defer c.Close()
	fmt.Println("kafkabroker: serving", strings.Join(c.ListenAddrs(), ","), "topics", *topics)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
