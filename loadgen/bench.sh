#!/usr/bin/env bash
# loadgen/bench.sh WORKLOAD [loadgen flags...] — the workloads of
# docs/benchmarks.md: starts what the workload needs (a node, three nodes or
# the echo server) on 127.0.0.1, runs `roomring loadgen` against it with
# --server-pid, prints the result and stops what it started. Extra flags go
# to the load generator and override the workload's.
#
#   idle      19,000 idle authenticated connections on one node (memory)
#   idle-rooms  19,000 connections in 50 rooms, idle (memory)
#   fanout    10,000 members of one room; RATE broadcasts/s (default 5)
#   ingest    room.react flood, 100 connections × window 16 (rate limit lifted)
#   echo      the same flood against the echo fixture
#   floor     the fanout workload against the floor fixture (loadgen/floor):
#             the same sockets, one write(2) per member, no server logic
#   cluster   three nodes (127.0.0.1-3), MEMBERS (45,000) in one room spread
#             over them, REACTIONS/s (20,000) spread too; measures the
#             aggregated room.reaction's spread and gaps
#   forward   room.react flood at a node that does not own the room, two
#             nodes: every frame crosses a peer link (compare with ingest)
#   spread    MEMBERS (15,000) in one room spread evenly over NODES (3) nodes
#             (1: one standalone node), RATE broadcasts/s (5) to it: the
#             cluster-efficiency workload (loadgen/efficiency.sh runs both)
#   failover  three nodes, MEMBERS (3,000) in one room, REACTIONS/s (1,000);
#             the room's owner is killed with SIGKILL KILL_AFTER seconds
#             (25) after the load starts; the largest room.reaction gap
#             the survivors saw is the recovery time (plus < 1 s)
#
# Environment: BENCH_DIR (default /tmp/roomring-bench), PORT (18080),
# GOSSIP_PORT (7946; the peer links listen on the next port), RATE (fanout
# and spread broadcasts/s), MEMBERS and REACTIONS (cluster), NODES (spread),
# NODE_FLAGS (extra node flags), STORE (a postgres:// DSN: every node uses
# that store, e.g. hack/postgres.sh's, instead of its own embedded one).
set -euo pipefail

workload=${1:?usage: loadgen/bench.sh idle|idle-rooms|fanout|ingest|echo [loadgen flags...]}
shift
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-/tmp/roomring-bench}
port=${PORT:-18080}
secret=bench-secret-0123456789abcdef
bin=$dir/roomring
mkdir -p "$dir"
go build -o "$bin" .
"$bin" loadgen rooms lg-big 'lg-{1..50}' >"$dir/rooms.yaml"

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# wait_ready URL: poll until the URL answers (the server is listening).
wait_ready() {
	for _ in $(seq 1 200); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "bench: $1 did not come up" >&2
	return 1
}

# The load generator's moderator (trait moderator) broadcasts with
# room.schedule: the built-in world grants the moderator role by trait, as
# the chart does (a node's own default grants only viewer).
grants='{"viewer": [], "moderator": ["moderator"], "admin": ["admin"]}'

# start_node ADDR DEBUG_ADDR [node flags...]: a node with the bench rooms.
start_node() {
	local addr=$1 debug=$2
	shift 2
	rm -rf "$dir/data-$addr"
	# shellcheck disable=SC2086
	ROOMRING_STORE=${STORE:-} "$bin" node --listen "$addr" --jwt-secret "$secret" --rooms "$dir/rooms.yaml" \
		--world-trait-grants "$grants" --data-dir "$dir/data-$addr" --log-level warn --debug-addr "$debug" ${NODE_FLAGS:-} "$@" &
	pids+=($!)
	wait_ready "http://$addr/readyz"
}

lg() { "$bin" loadgen --jwt-secret "$secret" "$@"; }

# start_cluster N [node flags]: nodes 127.0.0.1..N on $port, gossip on
# $GOSSIP_PORT, joined to the first. Without STORE each keeps its own store
# in its data directory (--allow-node-local-store): the bench measures the
# ring, not the store (docs/benchmarks.md); with STORE they share it.
start_cluster() {
	local n=$1 i join=() gport=${GOSSIP_PORT:-7946} nodelocal=(--allow-node-local-store)
	shift
	[ -z "${STORE:-}" ] || nodelocal=()
	for i in $(seq 1 "$n"); do
		start_node "127.0.0.$i:$port" "127.0.0.$i:$((port + 1))" --name "node-$i" \
			--gossip-addr "127.0.0.$i:$gport" --cluster-key "$secret" "${nodelocal[@]}" "${join[@]}" "$@"
		join=(--join "127.0.0.1:$gport")
	done
	# Load only a settled pool: every node sees every member, and the rooms
	# have finished moving to their owners (--rebuild-window).
	for i in $(seq 1 "$n"); do
		for _ in $(seq 1 400); do
			curl -fsS "http://127.0.0.$i:$port/metrics" 2>/dev/null | grep -q "^roomring_cluster_members $n\$" && break
			sleep 0.05
		done
	done
	sleep 3
}

case $workload in
idle)
	start_node 127.0.0.1:$port 127.0.0.1:$((port + 1))
	lg --target 127.0.0.1:$port --server-pid "${pids[0]}" --conns 19000 --procs 2 --src 127.0.0.2-127.0.0.9 \
		--big-share 0 --connect-rate 2000 --warmup 10s --duration 10s "$@"
	;;
idle-rooms)
	start_node 127.0.0.1:$port 127.0.0.1:$((port + 1))
	lg --target 127.0.0.1:$port --server-pid "${pids[0]}" --conns 19000 --procs 2 --src 127.0.0.2-127.0.0.9 \
		--big-share 0 --rooms 'lg-{1..50}' --connect-rate 2000 --warmup 10s --duration 10s "$@"
	;;
fanout)
	start_node 127.0.0.1:$port 127.0.0.1:$((port + 1))
	lg --target 127.0.0.1:$port --server-pid "${pids[0]}" --conns 10000 --procs 1 --src 127.0.0.2-127.0.0.5 \
		--big-room lg-big --big-share 1 --broadcast-rate "${RATE:-5}" --connect-rate 2000 --warmup 5s --duration 30s "$@"
	;;
ingest)
	start_node 127.0.0.1:$port 127.0.0.1:$((port + 1)) --rate-limit 1000000 --rate-burst 1000000
	lg --mode ingest --target 127.0.0.1:$port --server-pid "${pids[0]}" --conns 100 --window 16 \
		--big-room lg-big --warmup 5s --duration 20s "$@"
	;;
echo)
	"$bin" loadgen echo-server --listen 127.0.0.1:$port &
	pids+=($!)
	for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
	lg --mode echo --target 127.0.0.1:$port --server-pid "${pids[0]}" --conns 100 --window 16 \
		--warmup 5s --duration 20s "$@"
	;;
floor)
	"$bin" loadgen floor-server --listen 127.0.0.1:$port &
	pids+=($!)
	for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
	lg --target 127.0.0.1:$port --server-pid "${pids[0]}" --conns 10000 --procs 1 --src 127.0.0.2-127.0.0.5 \
		--big-room lg-big --big-share 1 --broadcast-rate "${RATE:-5}" --connect-rate 2000 --warmup 5s --duration 30s "$@"
	;;
cluster)
	start_cluster 3
	members=${MEMBERS:-45000}
	lg --target "127.0.0.1:$port,127.0.0.2:$port,127.0.0.3:$port" \
		--server-pid "$(IFS=,; echo "${pids[*]}")" --conns "$members" --procs 3 --src 127.0.0.10-127.0.0.30 \
		--big-room lg-big --big-share 1 --reaction-rate "${REACTIONS:-20000}" --connect-rate 1500 \
		--warmup 10s --duration 30s "$@"
	;;
spread)
	nodes=${NODES:-3}
	if [ "$nodes" -eq 1 ]; then
		start_node 127.0.0.1:$port 127.0.0.1:$((port + 1))
	else
		start_cluster "$nodes"
	fi
	targets=()
	for i in $(seq 1 "$nodes"); do targets+=("127.0.0.$i:$port"); done
	# Members round robin over the nodes: MEMBERS/NODES each. The same load
	# generator (processes, sources, rates) whatever NODES is.
	lg --target "$(IFS=,; echo "${targets[*]}")" --server-pid "$(IFS=,; echo "${pids[*]}")" \
		--conns "${MEMBERS:-15000}" --procs 2 --src 127.0.0.10-127.0.0.30 \
		--big-room lg-big --big-share 1 --broadcast-rate "${RATE:-5}" --connect-rate 1500 \
		--warmup 10s --duration 30s "$@"
	;;
forward)
	start_cluster 2 --rate-limit 1000000 --rate-burst 1000000
	owner=$("$bin" loadgen owner --members node-1,node-2 lg-big)
	edge=127.0.0.1
	[ "$owner" = node-1 ] && edge=127.0.0.2
	echo "bench: lg-big is owned by $owner; loading $edge" >&2
	lg --mode ingest --target "$edge:$port" --server-pid "${pids[0]},${pids[1]}" --conns 100 --window 16 \
		--big-room lg-big --warmup 5s --duration 20s "$@"
	;;
failover)
	start_cluster 3
	owner=$("$bin" loadgen owner --members node-1,node-2,node-3 lg-big)
	victim=${pids[$((${owner#node-} - 1))]}
	members=${MEMBERS:-3000}
	kill_after=${KILL_AFTER:-25}
	echo "bench: lg-big is owned by $owner (pid $victim); SIGKILL ${kill_after}s after the load starts" >&2
	# The load starts when the connections are up (--connect-rate 1500).
	(sleep $((members / 1500 + 2 + kill_after)) && kill -9 "$victim" && echo "bench: killed $owner at $(date +%T.%N)" >&2) &
	pids+=($!)
	lg --target "127.0.0.1:$port,127.0.0.2:$port,127.0.0.3:$port" \
		--server-pid "$(IFS=,; echo "${pids[*]:0:3}")" --conns "$members" --procs 1 --src 127.0.0.10-127.0.0.30 \
		--big-room lg-big --big-share 1 --reaction-rate "${REACTIONS:-1000}" --connect-rate 1500 \
		--warmup 10s --duration 40s "$@"
	;;
*)
	echo "bench: unknown workload $workload" >&2
	exit 2
	;;
esac
