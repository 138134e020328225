#!/usr/bin/env bash
# loadgen/soak.sh — a soak of docs/benchmarks.md (issue 15): a benchmark,
# not a timed assert. For SOAK_SECONDS (default 180) it runs, against a
# three-node pool on one throwaway PostgreSQL (hack/postgres.sh):
#
#   well-behaved clients  `roomring loadgen` rooms workload, venueless
#                         (room.react in 10 rooms, lg-big the busiest) and
#                         Socket.IO (resource:setReaction under the quota)
#   hostile clients       raw websockets (bash, /dev/tcp) that authenticate,
#                         enter lg-big, flood room.react far over
#                         --rate-limit and never read a byte; a Socket.IO
#                         loadgen writing resource reactions at 3× the
#                         per-user --resource-write-rate; random bytes on
#                         the peer port and the gossip TCP and UDP ports
#
# The owner of lg-big is SIGKILLed half-way. Every SAMPLE seconds (5) the
# nodes' VmRSS (from /proc) is printed. At the end the store is asked for
# the well-behaved Socket.IO users' rows: every user whose writes were
# acknowledged must have one. Needs curl, python3, psql and PostgreSQL's
# server binaries (hack/setup-test-deps.sh).
#
# Environment: SOAK_DIR (default /tmp/roomring-soak), PORT (18180; nodes on
# 127.0.0.1-3), GOSSIP_PORT (17946; peer links on +1), SAMPLE (5),
# GOOD_CONNS (300), GOOD_SIO (100), HOSTILE (6 raw flooders).
set -euo pipefail

cd "$(dirname "$0")/.."
seconds=${SOAK_SECONDS:-180}
dir=${SOAK_DIR:-/tmp/roomring-soak}
port=${PORT:-18180}
gport=${GOSSIP_PORT:-17946}
sample=${SAMPLE:-5}
secret=soak-secret-0123456789abcdef
bin=$dir/roomring
mkdir -p "$dir"
go build -o "$bin" .
"$bin" loadgen rooms lg-big 'lg-{1..10}' >"$dir/rooms.yaml"

dsn=$(hack/postgres.sh start "$dir/pg")
psql_() { psql "$dsn" -qAtX -c "$1"; }
# A fresh schema: the nodes migrate it on start.
psql_ "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"

pids=() nodes=() bg=()
cleanup() {
	for p in "${bg[@]}" "${nodes[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${bg[@]}" "${nodes[@]}"; do wait "$p" 2>/dev/null || true; done
	hack/postgres.sh stop "$dir/pg" || true
}
trap cleanup EXIT
log() { echo "soak $(date +%T): $*" >&2; }

for i in 1 2 3; do
	join=()
	[ "$i" -gt 1 ] && join=(--join "127.0.0.1:$gport")
	ROOMRING_STORE=$dsn "$bin" node --listen "127.0.0.$i:$port" --jwt-secret "$secret" --rooms "$dir/rooms.yaml" \
		--data-dir "$dir/data-$i" --name "node-$i" --gossip-addr "127.0.0.$i:$gport" --cluster-key "$secret" "${join[@]}" \
		--log-level warn 2>"$dir/node-$i.log" &
	nodes+=($!)
	for _ in $(seq 1 400); do curl -fsS -o /dev/null "http://127.0.0.$i:$port/readyz" 2>/dev/null && break; sleep 0.05; done
done
for i in 1 2 3; do
	for _ in $(seq 1 400); do
		curl -fsS "http://127.0.0.$i:$port/metrics" 2>/dev/null | grep -q '^roomring_cluster_members 3$' && break
		sleep 0.05
	done
done
sleep 3
owner=$("$bin" loadgen owner --members node-1,node-2,node-3 lg-big)
victim=${owner#node-}
log "pool up (pids ${nodes[*]}); lg-big is owned by $owner, killed at ~$((seconds / 2))s"

# rss: one line of every live node's VmRSS in MiB.
rss() {
	local line="rss $(date +%T)" i kb
	for i in 1 2 3; do
		kb=$(awk '/^VmRSS/ {print $2}' "/proc/${nodes[$((i - 1))]}/status" 2>/dev/null || true)
		if [ -n "$kb" ]; then line+=" node-$i=$((kb / 1024))MiB"; else line+=" node-$i=dead"; fi
	done
	echo "$line"
}
(while :; do rss; sleep "$sample"; done) &
bg+=($!)

# ws_frame TEXT: a masked (zero key) websocket text frame.
ws_frame() {
	local LC_ALL=C
	local n=${#1}
	if [ "$n" -lt 126 ]; then
		printf "\\x81\\x$(printf %02x $((n | 128)))\\0\\0\\0\\0%s" "$1"
	else
		printf "\\x81\\xfe\\x$(printf %02x $((n >> 8)))\\x$(printf %02x $((n & 255)))\\0\\0\\0\\0%s" "$1"
	fi
}
# flooder N: forever, a connection to node N that authenticates, enters
# lg-big, sends room.react as fast as bash can and never reads; it is closed
# (1008 rate limit, slow consumer) and comes back.
flooder() {
	local tok flood=$dir/flood-$BASHPID
	trap '' PIPE
	tok=$("$bin" token --secret "$secret" --uid "soak-hostile-$1-$BASHPID")
	: >"$flood"
	for _ in $(seq 1 64); do ws_frame '["room.react",1,{"room":"lg-big","reaction":"👏"}]' >>"$flood"; done
	while :; do
		{
			exec 3<>"/dev/tcp/127.0.0.$1/$port" || { sleep 1; continue; }
			printf 'GET /ws/world/default/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c29hay1zb2FrLXNvYWstIQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' >&3
			ws_frame "[\"authenticate\",{\"token\":\"$tok\"}]" >&3
			ws_frame '["room.enter",0,{"room":"lg-big"}]' >&3
			while cat "$flood" >&3; do :; done
			exec 3>&-
		} 2>/dev/null || true
		sleep 0.5
	done
}
# garbage: random bytes at every node's peer and gossip ports.
garbage() {
	local i
	while :; do
		for i in 1 2 3; do
			{
				head -c 65536 /dev/urandom >"/dev/tcp/127.0.0.$i/$((gport + 1))"
				head -c 65536 /dev/urandom >"/dev/tcp/127.0.0.$i/$gport"
				head -c 1400 /dev/urandom >"/dev/udp/127.0.0.$i/$gport"
			} 2>/dev/null || true
		done
		sleep 0.2
	done
}

lg() { "$bin" loadgen --jwt-secret "$secret" --interval 10s --warmup 5s --duration "${seconds}s" "$@"; }
targets="127.0.0.1:$port,127.0.0.2:$port,127.0.0.3:$port"
good_sio=${GOOD_SIO:-100}
lg --target "$targets" --run-id good --conns "${GOOD_CONNS:-300}" --src 127.0.0.10-127.0.0.20 \
	--rooms 'lg-{1..10}' --big-room lg-big --big-share 0.3 --reaction-rate 100 --connect-rate 200 \
	--server-pid "$(IFS=,; echo "${nodes[*]}")" --json "$dir/good.json" >"$dir/good.txt" 2>&1 &
good=$!
lg --dialect socketio --target "$targets" --run-id goodsio --conns "$good_sio" --src 127.0.0.21-127.0.0.25 \
	--rooms 'lg-{1..10}' --big-room lg-big --big-share 0.3 --reaction-rate 50 --connect-rate 200 \
	--json "$dir/goodsio.json" >"$dir/goodsio.txt" 2>&1 &
goodsio=$!
lg --dialect socketio --target "$targets" --run-id hostile --conns 5 --src 127.0.0.26 \
	--big-room lg-big --big-share 1 --reaction-rate 75 --connect-rate 50 --json "$dir/hostile-sio.json" \
	>"$dir/hostile-sio.txt" 2>&1 &
bg+=($!)
for n in $(seq 1 "${HOSTILE:-6}"); do
	flooder $(((n - 1) % 3 + 1)) &
	bg+=($!)
done
garbage &
bg+=($!)
log "load started: ${GOOD_CONNS:-300}+$good_sio well-behaved, hostile flooders, over-rate resource writes, peer-port garbage"

sleep $((5 + seconds / 2))
kill -9 "${nodes[$((victim - 1))]}"
log "SIGKILL $owner (pid ${nodes[$((victim - 1))]})"

wait "$good" || log "venueless loadgen exited $?"
wait "$goodsio" || log "socketio loadgen exited $?"
rss
echo "== well-behaved venueless clients"
cat "$dir/good.txt"
echo "== well-behaved Socket.IO clients"
cat "$dir/goodsio.txt"
echo "== hostile Socket.IO (over the write rate)"
tail -n 12 "$dir/hostile-sio.txt"
echo "== whole-run counters (loadgen --json total): requests, replies, error replies, drops, errors by kind"
for f in good goodsio hostile-sio; do
	python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["total"]; print(sys.argv[2], t["requests"], t["replies"], t["err_replies"], t["drops"], t.get("errors", {}))' \
		"$dir/$f.json" "$f" || true
done
echo "== survivors' counters of refused, closed and rejected traffic"
for i in 1 2 3; do
	[ "$i" = "$victim" ] && continue
	curl -fsS "http://127.0.0.$i:$port/metrics" | grep -Ev '^#' | grep -E 'panics|refused|rejected|slow|rate_limit|flood|gossip_problems|closed' | grep -Ev ' 0$' | sed "s/^/node-$i /" || true
done
echo "== store: well-behaved Socket.IO users with a stored resource reaction"
rows=$(psql_ "SELECT count(*) FROM roomring_resource_reactions WHERE resource = 'lg-reactions' AND user_id LIKE 'lg-goodsio-%'")
echo "rows $rows of $good_sio users"
for i in 1 2 3; do
	echo "== node-$i log (last lines)"
	tail -n 5 "$dir/node-$i.log"
done
