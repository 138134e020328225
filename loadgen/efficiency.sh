#!/usr/bin/env bash
# loadgen/efficiency.sh — the cluster's per-core efficiency (issue 14): one
# room of MEMBERS members receiving RATE broadcasts/s, first on one node, then
# spread evenly over three nodes (`loadgen/bench.sh spread`), each run on a
# fresh throwaway PostgreSQL (hack/postgres.sh) shared by its nodes. The same
# load generator both times (2 worker processes, the same sources and rates).
# Prints, for each: deliveries/s, the server CPU (all node processes, from
# /proc) per delivery, delivery latency p50/p99, and for the cluster the peer
# links' frames, writes and bytes per broadcast (the nodes' /metrics, scraped
# at the start of the measured period and DURATION-2 s later); then the
# efficiency: cluster CPU per delivery ÷ one node's.
#
# Environment: MEMBERS (15000), RATE (5), DURATION (measured seconds, 30),
# SIDES ("1 3": the node counts to run), BENCH_DIR (/tmp/roomring-bench),
# PORT (18080), GOSSIP_PORT (7946), NODE_FLAGS as bench.sh; REPORT_ONLY=1
# prints the table of the results already in BENCH_DIR; PROFILE=1 also takes
# a 10 s CPU profile of every node, 2 s into the measured period
# ($BENCH_DIR/eff-N-I.pprof; DURATION ≥ 20). Extra arguments
# go to the load generator. Bounded: each run is MEMBERS/1500 s of ramp-up,
# 10 s of warm-up, DURATION and ≤ 5 s of drain, plus the pool's start-up;
# the default takes about 2.5 minutes. Results: $BENCH_DIR/eff-N.json (the
# load generator's) and $BENCH_DIR/eff-N-m{0,1}-I.prom (node I's metrics).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-/tmp/roomring-bench}
members=${MEMBERS:-15000}
rate=${RATE:-5}
duration=${DURATION:-30}
sides=${SIDES:-1 3}
port=${PORT:-18080}
[ "$duration" -ge 5 ] || { echo "efficiency.sh: DURATION must be at least 5" >&2; exit 2; }
[ -z "${PROFILE:-}" ] || [ "$duration" -ge 20 ] || { echo "efficiency.sh: PROFILE needs DURATION ≥ 20" >&2; exit 2; }
profiled=0 # seconds of the window the profiles take
[ -z "${PROFILE:-}" ] || profiled=12
mkdir -p "$dir"

pgdir=
watcher=
cleanup() {
	[ -z "$watcher" ] || kill "$watcher" 2>/dev/null || true
	[ -z "$pgdir" ] || hack/postgres.sh destroy "$pgdir" || true
}
trap cleanup EXIT

# profile N: a 10 s CPU profile of every node, at once, into
# $dir/eff-N-I.pprof.
profile() {
	local i
	for i in $(seq 1 "$1"); do
		curl -fsS -o "$dir/eff-$1-$i.pprof" "http://127.0.0.$i:$((port + 1))/debug/pprof/profile?seconds=10" ||
			echo "efficiency.sh: no profile of node $i" >&2 &
	done
	wait
}

# scrape N TAG: every node's /metrics into $dir/eff-N-TAG-I.prom.
scrape() {
	local i
	for i in $(seq 1 "$1"); do
		curl -fsS -o "$dir/eff-$1-$2-$i.prom" "http://127.0.0.$i:$port/metrics" ||
			echo "efficiency.sh: no metrics from node $i" >&2
	done
}

# delta N METRIC: the increase of METRIC (a name with its labels, or a bare
# name: every series of it) over the measured window, summed over the nodes.
delta() {
	local n=$1 m=$2
	awk -v m="$m" -v n="$n" '
		FNR == 1 { tag = FILENAME ~ /-m1-/ ? 1 : 0 }
		/^#/ { next }
		{ name = $1; sub(/\{.*/, "", name) }
		$1 == m || name == m { s[tag] += $2 }
		END { printf "%.0f\n", s[1] - s[0] }' "$dir"/eff-"$n"-m0-*.prom "$dir"/eff-"$n"-m1-*.prom
}

for n in $sides; do
	[ -z "${REPORT_ONLY:-}" ] || break
	echo "efficiency.sh: $members members on $n node(s), $rate broadcasts/s" >&2
	rm -f "$dir"/eff-"$n"-m[01]-*.prom
	pgdir=$(mktemp -d /tmp/roomring-eff-pg.XXXXXX)
	store=$(hack/postgres.sh start "$pgdir")
	log=$dir/eff-$n.err
	: >"$log"
	# The measured window's metrics: once the load generator reports the
	# measured period, and DURATION-2 s later (inside it); gives up after
	# 5 minutes.
	(for _ in $(seq 1 600); do grep -q ' measure ' "$log" && break; sleep 0.5; done &&
		date +%s.%N >"$dir/eff-$n-window" && scrape "$n" m0 &&
		{ [ -z "${PROFILE:-}" ] || { sleep 2 && profile "$n"; }; } &&
		sleep $((duration - 2 - profiled)) &&
		scrape "$n" m1 && date +%s.%N >>"$dir/eff-$n-window" ||
		echo "efficiency.sh: no metrics window" >&2) &
	watcher=$!
	STORE=$store NODES=$n MEMBERS=$members RATE=$rate BENCH_DIR=$dir loadgen/bench.sh spread \
		--duration "${duration}s" --json "$dir/eff-$n.json" "$@" >"$dir/eff-$n.txt" 2> >(tee "$log" >&2)
	wait # the scrapes
	watcher=
	hack/postgres.sh destroy "$pgdir"
	pgdir=
done

# cpu_per_delivery N: all node processes' cores / deliveries per second, µs.
cpu_per_delivery() {
	jq -r 'if .deliveries_per_sec > 0 then ([.servers[].cpu] | add) / .deliveries_per_sec * 1e6 else 0 end' "$dir/eff-$1.json"
}

echo
printf '%-5s %8s %13s %10s %14s %9s %9s %9s  %s\n' nodes members deliveries/s 'srv cores' 'µs CPU/deliv' p50 p99 'lg cores' 'cores per node'
for n in $sides; do
	jq -r --arg n "$n" '
		def ms: . / 1e6 | . * 10 | floor / 10 | tostring + " ms";
		[$n, .held, (.deliveries_per_sec | floor), ([.servers[].cpu] | add * 100 | floor / 100),
		 (if .deliveries_per_sec > 0 then ([.servers[].cpu] | add) / .deliveries_per_sec * 1e6 * 100 | floor / 100 else "-" end),
		 (.delivery.p50_ns | ms), (.delivery.p99_ns | ms), (.loadgen_cpu * 100 | floor / 100),
		 ([.servers[].cpu * 100 | floor / 100 | tostring] | join(" + "))] | @tsv' \
		"$dir/eff-$n.json" |
		awk -F'\t' '{printf "%-5s %8s %13s %10s %14s %9s %9s %9s  %s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9}'
done
for n in $sides; do
	[ "$n" -gt 1 ] || continue
	[ -s "$dir/eff-$n-m1-1.prom" ] || continue
	b=$(delta "$n" 'roomring_frames_in_total{action="room.schedule"}')
	w=$(awk 'NR == 1 { a = $1 } NR == 2 { printf "%.1f", $1 - a }' "$dir/eff-$n-window")
	echo
	echo "peer links, $n nodes, over the metrics window (${w} s, $b broadcasts; all nodes together):"
	printf '  %-58s %10s  %10s  %10s\n' metric increase '/broadcast' '/second'
	for m in roomring_peer_frames_written_total roomring_peer_writes_total roomring_peer_bytes_written_total \
		'roomring_cluster_events_forwarded_total{result="sent"}' 'roomring_cluster_catalog_updates_total{result="pushed"}' 'roomring_peer_frames_received_total{type="message"}' \
		'roomring_peer_frames_received_total{type="request"}' 'roomring_peer_frames_received_total{type="reply"}' \
		roomring_cluster_resyncs_total roomring_peer_frames_dropped_total; do
		d=$(delta "$n" "$m")
		awk -v m="$m" -v d="$d" -v b="$b" -v w="$w" 'BEGIN {
			printf "  %-58s %10d  %10s  %10.1f\n", m, d, (b > 0 ? sprintf("%.2f", d / b) : "-"), (w > 0 ? d / w : 0) }'
	done
	if [ -f "$dir/eff-1.json" ] && [ "$rate" != 0 ]; then
		one=$(cpu_per_delivery 1)
		many=$(cpu_per_delivery "$n")
		awk -v a="$many" -v b="$one" -v n="$n" 'BEGIN { printf "\nefficiency: %d nodes %.2f µs CPU per delivery / 1 node %.2f µs = %.3f (%.1f %% more CPU per delivery)\n", n, a, b, a / b, (a / b - 1) * 100 }'
	fi
done
echo "(results: $dir/eff-*.json; load average $(cut -d' ' -f1-3 /proc/loadavg))"
