#!/usr/bin/env bash
# cost-per-layer.sh BINARY PROFILE COMMANDS [LAYERS.tsv]
#
# Turns a CPU profile of `accrual serve --cpuprofile` into CPU ns per command
# per layer (issue 18). Every sample's stack (go tool pprof -traces) goes to
# the FIRST layer of the table below with a frame matching its pattern, so
# the order is the attribution rule: a Pebble insert under the ledger writer
# is "ledger", under the Raft log store "raft log", elsewhere "pebble bg".
# COMMANDS is the number of commands the run applied (the bench's count).
# The client is another process: take its CPU from the bench's report.
set -euo pipefail
if [ $# -lt 3 ]; then
	echo "usage: $0 BINARY PROFILE COMMANDS [LAYERS.tsv]" >&2
	exit 2
fi
bin=$1 prof=$2 count=$3
layers=${4:-$(dirname "$0")/cost-layers.tsv}
go tool pprof -traces "$bin" "$prof" 2>/dev/null | awk -v count="$count" -v layers="$layers" '
BEGIN {
	FS = "\t"
	while ((getline line < layers) > 0) {
		if (line ~ /^#/ || line == "") continue
		split(line, f, "\t")
		n++; name[n] = f[1]; pat[n] = f[2]
	}
	FS = " "
}
function unit(v) {
	if (v ~ /ns$/) return substr(v, 1, length(v)-2) + 0
	if (v ~ /us$/ || v ~ /µs$/) return (v + 0) * 1e3
	if (v ~ /ms$/) return (v + 0) * 1e6
	if (v ~ /s$/) return (v + 0) * 1e9
	return 0
}
function flush(   i, hit) {
	if (val == 0) return
	hit = "other"
	for (i = 1; i <= n; i++) if (stack ~ pat[i]) { hit = name[i]; break }
	sum[hit] += val; total += val
	val = 0; stack = ""
}
/^-----------\+/ { flush(); next }
/^[ \t]+[0-9.]+(ns|us|µs|ms|s)[ \t]+/ { flush(); val = unit($1); stack = "|" $2 "|"; next }
/^[ \t]+[^ \t]+[ \t]*(\(inline\))?$/ { if (val) stack = stack $1 "|"; next }
END {
	flush()
	printf "| layer | CPU ns per command | share |\n|---|---:|---:|\n"
	for (i = 1; i <= n; i++) if (!(name[i] in done)) { done[name[i]] = 1
		if (sum[name[i]] > 0) printf "| %s | %.0f | %.1f %% |\n", name[i], sum[name[i]] / count, 100 * sum[name[i]] / total }
	if (sum["other"] > 0) printf "| other | %.0f | %.1f %% |\n", sum["other"] / count, 100 * sum["other"] / total
	printf "| **server total** | **%.0f** | 100 %% |\n", total / count
}'
