#!/usr/bin/env bash
# loadgen/floor.sh — the node's fan-out against the machine's floor, in one
# run: for each rate of RATES (broadcasts/s to one room of 10,000 members),
# the fanout workload runs against the floor fixture (loadgen/floor: one
# write(2) per member, no server logic) and then against a node, each with
# `loadgen/bench.sh`, and a table compares them: server CPU per delivery
# and delivery latency p50/p99.
#
# Environment: RATES (default "5 50"), DURATION (measured seconds per run,
# default 20), CONNS (default 10000), BENCH_DIR and PORT as bench.sh;
# PROFILE=1 also takes a 10 s CPU profile of the node in each of its runs
# (DURATION ≥ 20)
# ($BENCH_DIR/floor-node-RATE.pprof; `go tool pprof -top` it). Bounded: each
# run is ~CONNS/2000 s of ramp-up, 5 s of warm-up, DURATION and ≤ 5 s of
# drain; the default takes about 2.5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-/tmp/roomring-bench}
rates=${RATES:-5 50}
duration=${DURATION:-20}
conns=${CONNS:-10000}
mkdir -p "$dir"

for rate in $rates; do
	for server in floor fanout; do
		echo "floor.sh: $server at $rate broadcasts/s" >&2
		log=$dir/floor-$server-$rate.err
		: >"$log"
		if [ -n "${PROFILE:-}" ] && [ "$server" = fanout ]; then
			# Once the load generator reports the measured period (its
			# progress lines), for 10 s of it; gives up after 5 minutes.
			(for _ in $(seq 1 600); do grep -q ' measure ' "$log" && break; sleep 0.5; done &&
				curl -fsS -o "$dir/floor-node-$rate.pprof" \
					"http://127.0.0.1:$((${PORT:-18080} + 1))/debug/pprof/profile?seconds=10" ||
				echo "floor.sh: no profile" >&2) &
		fi
		RATE=$rate BENCH_DIR=$dir loadgen/bench.sh "$server" --conns "$conns" --duration "${duration}s" \
			--json "$dir/floor-$server-$rate.json" "$@" >"$dir/floor-$server-$rate.txt" 2> >(tee "$log" >&2)
		wait # the profile, if any
	done
done

printf '\n%-6s %-6s %12s %14s %10s %10s %10s %10s\n' rate server deliveries/s 'µs CPU/deliv' 'srv cores' 'lg cores' p50 p99
for rate in $rates; do
	for server in floor fanout; do
		name=$server
		[ "$server" = fanout ] && name=node
		jq -r --arg r "$rate" --arg n "$name" '
			def ms: . / 1e6 | tostring | .[0:6] + " ms";
			[$r, $n, (.deliveries_per_sec | floor),
			 (if .deliveries_per_sec > 0 then (.servers[0].cpu / .deliveries_per_sec * 1e6 * 100 | floor) / 100 else 0 end),
			 ((.servers[0].cpu * 100 | floor) / 100), ((.loadgen_cpu * 100 | floor) / 100),
			 (.delivery.p50_ns | ms), (.delivery.p99_ns | ms)] | @tsv' "$dir/floor-$server-$rate.json" |
			awk -F'\t' '{printf "%-6s %-6s %12s %14s %10s %10s %10s %10s\n", $1, $2, $3, $4, $5, $6, $7, $8}'
	done
done
echo "(results: $dir/floor-*.json; load average $(cut -d' ' -f1-3 /proc/loadavg))"
