#!/bin/bash
# Restart time of a node holding many members (docs/BENCHMARKS.md,
# "Restart of a 20M-member node").
#   scripts/restart-large.sh BIN COUNT MEMBERS SKEW DIR
# Generates COUNT payback commands over a population of MEMBERS (Zipf
# exponent SKEW; 36000000 36000000 0.1 reaches about 22M members), builds a
# node's data directory from them with `accrual import` (the state becomes
# the directory's Raft snapshot), then starts `accrual serve` on it and
# prints how long /readyz takes to answer 200 and /v1/stats to show every
# member, with the node's RSS then. DIR is kept. Loopback ports 18080, 17000.
set -eu
BIN=$(realpath "$1"); N=$2; MEMBERS=$3; SKEW=$4; D=$5
mkdir -p "$D"
KEY=restart-bench-key-0123456789
printf -- "- {key: %s, role: operator}\n" $KEY >"$D/keys.yaml"
"$BIN" bench program --profile payback >"$D/program.yaml"
if [ ! -d "$D/n" ]; then
	/usr/bin/time -f "import: %e s, %U s user, %M KB max RSS" \
		sh -c "'$BIN' bench gen --profile payback --count $N --members $MEMBERS --skew $SKEW |
			'$BIN' import --program '$D/program.yaml' --data '$D/n' --node-id n1 --raft-addr 127.0.0.1:17000 >/dev/null"
fi
du -sh "$D/n" | sed 's/^/data dir: /'
start=$(date +%s.%N)
"$BIN" serve --node-id n1 --http-addr 127.0.0.1:18080 --raft-addr 127.0.0.1:17000 --data "$D/n" --keys "$D/keys.yaml" >"$D/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
ready=""; members=0
for _ in $(seq 1 6000); do # at most 10 minutes
	now=$(date +%s.%N)
	if [ -z "$ready" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18080/readyz)" = 200 ]; then
		ready=$(echo "$now - $start" | bc)
		members=$(curl -s -H "Authorization: Bearer $KEY" http://127.0.0.1:18080/v1/stats |
			python3 -c 'import sys,json; print(json.load(sys.stdin).get("members",0))')
		break
	fi
	sleep 0.1
done
echo "readyz 200 after ${ready:-never}s with $members members; RSS $(ps -o rss= -p $pid) KiB"
