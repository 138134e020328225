#!/usr/bin/env bash
# Puts the schema of api/v1alpha1/scheduledata.schema.yaml in place of the
# one controller-gen writes for Room spec.scheduleData (a raw JSON field in
# Go, whose keys a schemaless object cannot check). Run by make manifests.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
crd="$root/config/crd/bases/roomring.dev_rooms.yaml"
schema="$root/api/v1alpha1/scheduledata.schema.yaml"
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
awk -v schema="$schema" '
	$0 == "              scheduleData:" {
		while ((getline l < schema) > 0) if (l !~ /^#/) print l
		skip = 1; done = 1; next
	}
	skip { match($0, /^ */); if (RLENGTH <= 14 && length($0) > RLENGTH) skip = 0 }
	!skip { print }
	END { if (!done) { print "crd-schedule-data.sh: no spec.scheduleData in the CRD" > "/dev/stderr"; exit 1 } }
' "$crd" >"$tmp"
cat "$tmp" >"$crd"
