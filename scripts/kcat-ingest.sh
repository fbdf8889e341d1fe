#!/bin/sh
# The kcat check of Kafka ingest (`make kcat`): a bank's pipeline puts card
# transactions on a topic with kcat, one command per message; three nodes
# consume it; the leader is killed (SIGKILL) midway; the members exported
# from a survivor must equal an offline replay of the topic's messages in
# order (`accrual replay --dump`), byte for byte.
#
# Needs: kcat (Debian package kcat), python3, go. The broker is franz-go's
# kfake on loopback (internal/kafkabroker), so no Kafka installation is
# needed; point KAFKA_BROKERS at a real broker (topics card-tx and
# card-tx-results, one partition each) to use one instead.
set -eu

BIN=${BIN:-bin/accrual}
KPORT=${KAFKA_PORT:-19092}
BROKERS=${KAFKA_BROKERS:-127.0.0.1:$KPORT}
PROGRAM=testdata/conformance/club.program.json
STREAM=testdata/conformance/club.ndjson
work=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
command -v kcat >/dev/null || { echo "kcat: not installed (apt-get install -y kcat)"; exit 1; }
[ -x "$BIN" ] || { echo "kcat: $BIN missing (make build)"; exit 1; }

if [ -z "${KAFKA_BROKERS:-}" ]; then
	go build -o "$work/kafkabroker" ./internal/kafkabroker
	"$work/kafkabroker" --port "$KPORT" --topics card-tx,card-tx-results >"$work/broker.log" 2>&1 &
	pids="$pids $!"
fi
i=0
until kcat -L -b "$BROKERS" -t card-tx >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "kcat: no broker at $BROKERS"; exit 1; }; sleep 0.1
done

# A node answers a command whose `at` is more than 5 minutes ahead of its
# clock at_in_future, an offline replay has no clock: keep the commands up
# to now (the stream runs into 2027).
python3 - "$STREAM" >"$work/stream.ndjson" <<'EOF'
import datetime, json, sys
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
for line in open(sys.argv[1]):
    try:
        at = json.loads(line).get("at", "")
    except (ValueError, AttributeError):
        at = ""
    if at[:19] <= now:
        sys.stdout.write(line)
EOF
total=$(wc -l <"$work/stream.ndjson")
half=$((total / 2))
head -n "$half" "$work/stream.ndjson" >"$work/first.ndjson"
tail -n +"$((half + 1))" "$work/stream.ndjson" >"$work/second.ndjson"

# The stream carries its own ticks: the leader's wall-clock ticks would
# interleave with it, and no offline replay could know where.
kafka="--kafka-brokers $BROKERS --kafka-topics card-tx --kafka-results-topic card-tx-results --tick-interval 0"
serve() { # id n, then extra flags
	id=$1; n=$2; shift 2
	# shellcheck disable=SC2086 # $kafka is a list of flags
	"$BIN" serve --node-id "$id" --raft-addr 127.0.0.1:1710$n --http-addr 127.0.0.1:1818$n \
		--data "$work/$id" --disk-reserve-mb 0 $kafka "$@" >"$work/$id.log" 2>&1 &
	eval "pid_$id=$!"
	pids="$pids $!"
}
serve n1 1 --program "$PROGRAM" --bootstrap
until [ -s "$work/n1/operator.key" ]; do sleep 0.1; done
ACCRUAL_KEY=$(cat "$work/n1/operator.key")
export ACCRUAL_KEY
serve n2 2 --join 127.0.0.1:18181 --keys "$work/n1/keys.yaml"
serve n3 3 --join 127.0.0.1:18181 --keys "$work/n1/keys.yaml"

status() { # node number → /v1/cluster JSON
	curl -sf -H "Authorization: Bearer $ACCRUAL_KEY" "http://127.0.0.1:1818$1/v1/cluster" || echo '{}'
}
field() { # JSON on stdin, python expression over s → value
	python3 -c "import json,sys; s=json.load(sys.stdin); print($1)" 2>/dev/null || echo ""
}
next_of() { status "$1" | field "next((p['Next'] for p in s.get('Kafka') or [] if p['Topic']=='card-tx'), 0)"; }
wait_until() { # seconds, what, command…
	secs=$1; what=$2; shift 2; i=0
	until "$@"; do
		i=$((i + 1)); [ $i -lt $((secs * 10)) ] || { echo "kcat: timed out waiting for $what"; tail -5 "$work"/n*.log; exit 1; }
		sleep 0.1
	done
}
three_voters() { [ "$(status 1 | field "len(s.get('Servers') or [])")" = 3 ]; }
wait_until 30 "three nodes" three_voters

kcat -P -b "$BROKERS" -t card-tx -l "$work/first.ndjson"
started() { [ "$(next_of 1)" -gt 0 ] 2>/dev/null; }
wait_until 30 "the leader to consume" started
leader=$(status 1 | field "s['LeaderID']")
# The second half goes on the topic in chunks, as a pipeline would, while
# the leader consumes it; the leader dies after the first chunk.
split -l 100 "$work/second.ndjson" "$work/chunk."
(for c in "$work"/chunk.*; do kcat -P -b "$BROKERS" -t card-tx -l "$c"; sleep 0.2; done) &
feeder=$!
sleep 0.1
at=$(next_of 1)
eval "kill -9 \$pid_$leader"
echo "kcat: killed the leader $leader at offset $at of $total"
wait $feeder

survivor=1; [ "$leader" != n1 ] || survivor=2
done_all() { [ "$(next_of $survivor)" = "$total" ]; }
wait_until 60 "every message applied" done_all
new_leader() { l=$(status $survivor | field "s['LeaderID']"); [ -n "$l" ] && [ "$l" != "$leader" ]; }
wait_until 30 "a new leader" new_leader

"$BIN" replay --program "$PROGRAM" --dump <"$work/stream.ndjson" | grep '^{"member"' >"$work/want.ndjson"
"$BIN" export members --addr "127.0.0.1:1818$survivor" >"$work/got.ndjson"
if ! diff -q "$work/want.ndjson" "$work/got.ndjson" >/dev/null; then
	diff "$work/want.ndjson" "$work/got.ndjson" | head -20
	echo "kcat: FAIL: the cluster's members differ from the offline replay"
	exit 1
fi
echo "kcat: ok: $total messages, leader $leader killed midway; $(wc -l <"$work/got.ndjson") members equal the offline replay"
