#!/usr/bin/env bash
# Installs what `make test` needs beyond Go: chromium, node and the npm
# packages of the Socket.IO tests, and PostgreSQL for the store tests.
# Idempotent, and quiet when everything is installed already.
set -euo pipefail
cd "$(dirname "$0")/.."
go version

# apt_install PKG... installs Debian packages non-interactively, refreshing
# the package lists only when the packages are not installable from them.
apt_install() {
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
	export DEBIAN_FRONTEND=noninteractive
	if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; then
		"${sudo[@]}" apt-get update -qq >/dev/null
		"${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
	fi
}

# Chromium: the headless browser of the demo page's browser test
# (node/demo/browser_test.go).
if [ ! -x /usr/bin/chromium ]; then
	echo "installing chromium (apt)"
	apt_install chromium
fi

# Node.js and the real socket.io-client packages (2.x as Valu pins, and 4.x)
# of the Socket.IO compatibility tests (node/protocol/socketio, driven through
# test/socketio/agent.cjs). `npm ci` runs only when test/socketio/node_modules
# does not match package-lock.json.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "installing nodejs and npm (apt)"
	apt_install nodejs npm
fi
sio_stamp=test/socketio/node_modules/.roomring-lock.sha256
sio_lock=$(sha256sum test/socketio/package-lock.json | cut -d' ' -f1)
if [ ! -f "$sio_stamp" ] || [ "$(cat "$sio_stamp")" != "$sio_lock" ]; then
	echo "installing socket.io-client 2.x and 4.x (npm ci in test/socketio)"
	(cd test/socketio && npm ci --no-audit --no-fund --loglevel=error)
	echo "$sio_lock" >"$sio_stamp"
fi
# The npm packages venueless' web-app code imports (vuex, vue, vue-router,
# moment, …), esbuild to bundle it and ws for WebSocket: the web-app tests
# of test/venueless (agent.mjs), which extract that code from a venueless
# clone at test time (VENUELESS_SRC). Same stamp as above.
vl_stamp=test/venueless/node_modules/.roomring-lock.sha256
vl_lock=$(sha256sum test/venueless/package-lock.json | cut -d' ' -f1)
if [ ! -f "$vl_stamp" ] || [ "$(cat "$vl_stamp")" != "$vl_lock" ]; then
	echo "installing venueless' web-app packages (npm ci in test/venueless)"
	(cd test/venueless && npm ci --no-audit --no-fund --loglevel=error)
	echo "$vl_lock" >"$vl_stamp"
fi

# PostgreSQL: the server binaries behind hack/postgres.sh, which starts
# throwaway servers (temp dir, 127.0.0.1, free port) for the PostgreSQL store's
# tests (node/store/postgres, node/store/storetest). Debian's package also
# creates the `postgres` user the servers run as when the tests run as root.
if ! hack/postgres.sh bindir >/dev/null 2>&1; then
	echo "installing postgresql (apt)"
	apt_install postgresql
fi
