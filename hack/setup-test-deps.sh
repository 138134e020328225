#!/usr/bin/env bash
# Installs what `make test` needs beyond Go: chromium; later steps (npm
# packages, PostgreSQL) are added here. Idempotent, and quiet when everything
# is installed already.
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
