#!/bin/bash
# Restart time of one node (docs/BENCHMARKS.md, "Restart").
#   scripts/restart-time.sh BIN COUNT [MEMBERS [SKEW]]
# Loads COUNT payback commands over a population of MEMBERS (default
# 200000, activity Zipf-skewed by SKEW, default 1.1) into a node over HTTP
# with `BIN bench --target node` (its data directory kept; DATA=DIR keeps
# it after the script too), then starts the node again from
# that directory and prints how long /readyz takes to answer 200 and
# /v1/stats to show every command. Loopback only; ports 18080 and 17000.
set -u
BIN=$(realpath "$1"); N=$2; MEMBERS=${3:-200000}; SKEW=${4:-1.1}
if [ -n "${DATA:-}" ]; then D=$DATA; mkdir -p "$D"; else D=$(mktemp -d); trap 'rm -rf "$D"' EXIT; fi
KEY=restart-bench-key-0123456789
"$BIN" bench --target node --bin "$BIN" --count "$N" --members "$MEMBERS" --skew "$SKEW" --batch 1000 --clients 8 --key $KEY \
	--serve-args "serve --node-id {id} --http-addr {http} --raft-addr {raft} --data $D/n --program {program} --keys {keys} {join}" >"$D/load.txt" 2>&1
grep -E '^(throughput|ok )' "$D/load.txt"
printf -- "- {key: %s, role: operator}\n" $KEY >"$D/keys.yaml"
du -sh "$D/n" | sed 's/^/data dir: /'
start=$(date +%s.%N)
"$BIN" serve --node-id n1 --http-addr 127.0.0.1:18080 --raft-addr 127.0.0.1:17000 --data "$D/n" --keys "$D/keys.yaml" >"$D/serve.log" 2>&1 &
pid=$!
ready=""; full=""
for _ in $(seq 1 3000); do # at most 5 minutes
	now=$(date +%s.%N)
	if [ -z "$ready" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18080/readyz)" = 200 ]; then
		ready=$(echo "$now - $start" | bc)
	fi
	c=$(curl -s -H "Authorization: Bearer $KEY" http://127.0.0.1:18080/v1/stats |
		python3 -c 'import sys,json
try: print(json.load(sys.stdin).get("commands",0))
except Exception: print(0)')
	if [ "$c" -ge $((N * 999 / 1000)) ]; then full=$(echo "$now - $start" | bc); break; fi
	sleep 0.1
done
curl -s -H "Authorization: Bearer $KEY" http://127.0.0.1:18080/v1/stats | python3 -c 'import sys,json; d=json.load(sys.stdin); print("commands", d.get("commands"), "members", d.get("members"))'
echo "readyz 200 after ${ready:-never}s; /v1/stats shows every command after ${full:-never}s; RSS $(ps -o rss= -p $pid) KiB"
kill $pid; wait $pid 2>/dev/null
