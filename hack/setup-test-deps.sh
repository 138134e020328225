#!/usr/bin/env bash
# Installs what `make test` needs beyond Go: nothing yet for the Go suites;
# later steps (chromium, npm packages, PostgreSQL) are added here.
set -euo pipefail
cd "$(dirname "$0")/.."
go version
