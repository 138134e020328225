#!/usr/bin/env bash
# A local pool for trying roomring out (make run-cluster): three --dev nodes
# on 127.0.0.1, joined, with the sample rooms, on ONE throwaway PostgreSQL
# (hack/postgres.sh) as a pool needs (docs/cluster.md). Ctrl-C stops the
# nodes, then PostgreSQL, and removes every file it made.
#
#   PORT=8081         HTTP port of node 1; node N listens on PORT+N-1
#   GOSSIP_PORT=7946  gossip port of node 1; node N gossips on
#                     GOSSIP_PORT+10*(N-1) and links to peers on the next port
#   ROOMRING=bin/roomring
#
# Node logs: the printed directory. Needs PostgreSQL's server binaries
# (hack/setup-test-deps.sh installs them) and curl.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOMRING=${ROOMRING:-bin/roomring}
PORT=${PORT:-8081}
GOSSIP_PORT=${GOSSIP_PORT:-7946}
NODES=3

die() { echo "run-cluster.sh: $*" >&2; exit 1; }
[ -x "$ROOMRING" ] || die "$ROOMRING not built: run make build (or make run-cluster)"
command -v curl >/dev/null || die "curl not found"
hack/postgres.sh bindir >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/roomring-cluster.XXXXXX")
# Directly under /tmp: as root the server runs as the postgres user, who
# must reach it (hack/postgres.sh).
pgdir=$(mktemp -d /tmp/roomring-cluster-pg.XXXXXX)
pids=()
stopped=
stop() {
	[ -n "$stopped" ] && return
	stopped=1
	trap '' INT TERM
	echo
	echo "stopping the nodes..."
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	echo "stopping PostgreSQL..."
	hack/postgres.sh destroy "$pgdir" || true
	rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM

# PostgreSQL in its own session: Ctrl-C reaches the nodes, which then leave
# the ring with their store still up.
detach=()
command -v setsid >/dev/null && detach=(setsid -w)
dsn=$("${detach[@]}" hack/postgres.sh start "$pgdir")

# One JWT secret for the pool: a token minted for it works on every node.
secret=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')

join=()
for i in $(seq 1 "$NODES"); do
	http=127.0.0.1:$((PORT + i - 1))
	gossip=127.0.0.1:$((GOSSIP_PORT + 10 * (i - 1)))
	mkdir -p "$work/node-$i"
	ROOMRING_STORE=$dsn "$ROOMRING" node --dev --name "node-$i" --listen "$http" \
		--gossip-addr "$gossip" "${join[@]}" --jwt-secret "$secret" \
		--data-dir "$work/node-$i" >"$work/node-$i.log" 2>&1 &
	pids+=($!)
	join=(--join "127.0.0.1:$GOSSIP_PORT")
done

# Ready: every node answers /readyz and counts every member.
for i in $(seq 1 "$NODES"); do
	url=http://127.0.0.1:$((PORT + i - 1))
	for t in $(seq 1 600); do
		kill -0 "${pids[$((i - 1))]}" 2>/dev/null || { cat "$work/node-$i.log" >&2; die "node-$i exited"; }
		if curl -fsS "$url/readyz" >/dev/null 2>&1 &&
			curl -fsS "$url/metrics" 2>/dev/null | grep -q "^roomring_cluster_members $NODES\$"; then
			break
		fi
		[ "$t" -lt 600 ] || { cat "$work/node-$i.log" >&2; die "node-$i not ready with $NODES members after 60 s"; }
		sleep 0.1
	done
done

cat <<EOF

roomring: a pool of $NODES dev nodes on one PostgreSQL ($dsn).

EOF
for i in $(seq 1 "$NODES"); do
	h=127.0.0.1:$((PORT + i - 1))
	echo "  node-$i  demo http://$h/   websocket ws://$h/ws/world/default/   socket.io http://$h path /socket"
done
cat <<EOF

  JWT secret:  $secret   (the same on every node)
  mint tokens: $ROOMRING token --secret $secret --uid alice --traits moderator
  guests:      ["authenticate", {"client_id": "any-string"}]
  readiness:   curl http://127.0.0.1:$((PORT + 1))/readyz
  node logs:   $work/node-{1..$NODES}.log

Ctrl-C stops the nodes and PostgreSQL and removes their files.
EOF

# Until Ctrl-C (which the nodes receive too), or until a node exits on its
# own; either way the EXIT trap stops everything.
interrupted=
trap 'interrupted=1' INT TERM
wait -n "${pids[@]}" || true
[ -n "$interrupted" ] && exit 130
for i in $(seq 1 "$NODES"); do
	if ! kill -0 "${pids[$((i - 1))]}" 2>/dev/null; then
		tail -n 20 "$work/node-$i.log" >&2
		die "node-$i exited"
	fi
done
