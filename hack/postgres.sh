#!/usr/bin/env bash
# Throwaway PostgreSQL servers for tests: Debian's postgresql binaries, data
# and unix socket in a directory of the caller's choice, listening on
# 127.0.0.1 only, on a free port, trust authentication (loopback only).
#
#   hack/postgres.sh start DIR   initialise DIR (first time), start the server
#                                and print its DSN; a restart keeps the port
#   hack/postgres.sh stop DIR    stop it cleanly (pg_ctl -m fast); data kept
#   hack/postgres.sh kill DIR    crash it (pg_ctl -m immediate): no shutdown
#                                checkpoint, recovery replays the WAL on start
#   hack/postgres.sh dsn DIR     print the DSN of the server in DIR
#   hack/postgres.sh destroy DIR stop it (if running) and remove DIR
#   hack/postgres.sh bindir      print the directory of the server binaries
#
# The DSN is postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable.
# initdb refuses to run as root: as root the server runs as the `postgres`
# user (created by Debian's package) and DIR is chowned to it, so DIR's
# parent must be traversable by that user (e.g. directly under /tmp).
# Binaries: $PG_BINDIR, else the newest /usr/lib/postgresql/*/bin, else
# pg_config --bindir. Install them with hack/setup-test-deps.sh.
set -euo pipefail

die() { echo "postgres.sh: $*" >&2; exit 1; }

bindir() {
	if [ -n "${PG_BINDIR:-}" ]; then
		[ -x "$PG_BINDIR/initdb" ] || die "PG_BINDIR=$PG_BINDIR has no initdb"
		echo "$PG_BINDIR"
		return
	fi
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
	if [ -n "$d" ] && [ -x "$d/initdb" ]; then
		echo "$d"
		return
	fi
	if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
		pg_config --bindir
		return
	fi
	die "PostgreSQL server binaries not found: run hack/setup-test-deps.sh (installs Debian's postgresql package)"
}

# as_owner CMD... runs CMD as the user owning the data directory.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running() { as_owner "$BIN/pg_ctl" status -D "$DIR/data" >/dev/null 2>&1; }

print_dsn() { echo "postgres://postgres@127.0.0.1:$(cat "$DIR/port")/postgres?sslmode=disable"; }

init() {
	if [ "$(id -u)" -eq 0 ]; then
		getent passwd postgres >/dev/null || die "running as root needs the postgres user (Debian's postgresql package creates it)"
		chown postgres: "$DIR"
	fi
	chmod 700 "$DIR"
	as_owner "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
		>"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; die "initdb failed in $DIR"; }
}

start() {
	[ -f "$DIR/data/PG_VERSION" ] || init
	if running; then
		print_dsn
		return
	fi
	local port tries=0
	while :; do
		if [ -f "$DIR/port" ]; then
			port=$(cat "$DIR/port") # a restart keeps the DSN
		else
			port=$((20000 + RANDOM % 40000))
			port_in_use "$port" && continue
		fi
		# fsync stays on: tests and benchmarks run against real durability.
		if as_owner "$BIN/pg_ctl" start -D "$DIR/data" -w -t 60 -l "$DIR/server.log" -o \
			"-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$DIR -c max_connections=100 -c shared_buffers=32MB" \
			>/dev/null; then
			echo "$port" >"$DIR/port"
			print_dsn
			return
		fi
		tries=$((tries + 1))
		if [ -f "$DIR/port" ] || [ "$tries" -ge 5 ]; then
			tail -n 20 "$DIR/server.log" >&2 || true
			die "could not start PostgreSQL in $DIR"
		fi
	done
}

stop() {
	running || return 0
	as_owner "$BIN/pg_ctl" stop -D "$DIR/data" -m "$1" -w -t 60 >/dev/null
}

cmd=${1:-}
[ -n "$cmd" ] || die "usage: $0 start|stop|kill|dsn|destroy DIR, or $0 bindir"
BIN=$(bindir)
if [ "$cmd" = bindir ]; then
	echo "$BIN"
	exit 0
fi
DIR=${2:-}
[ -n "$DIR" ] || die "usage: $0 $cmd DIR"
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
case $cmd in
start) start ;;
stop) stop fast ;;
kill) stop immediate ;;
dsn) [ -f "$DIR/port" ] || die "no server in $DIR"; print_dsn ;;
destroy) stop immediate; rm -rf "$DIR" ;;
*) die "unknown command $cmd" ;;
esac
