#!/usr/bin/env bash
# Builds helm into bin/helm from the Go module proxy when it is missing or is
# not the pinned version, with the ldflags helm's own Makefile sets (its
# version, and the Kubernetes version `helm template` and `helm lint` assume
# without a cluster: that of the client-go it links, v0.34 -> 1.34).
#
#   hack/helm.sh            build when needed, print the path
#
# The first build takes a few minutes on two cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/bin"
HELM_VERSION="v3.19.5"
KUBE_MAJOR="1"
KUBE_MINOR="34"

if [ -x "$bin/helm" ] && [ "$("$bin/helm" version --template '{{.Version}}' 2>/dev/null)" = "$HELM_VERSION" ]; then
	echo "$bin/helm"
	exit 0
fi
mkdir -p "$bin"
echo ">> building helm $HELM_VERSION into bin/helm" >&2
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
	ldflags="$ldflags -X $p.k8sVersionMajor=$KUBE_MAJOR -X $p.k8sVersionMinor=$KUBE_MINOR"
done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# go install keeps the build outside this module (helm's own go.mod rules).
GOBIN="$tmp" CGO_ENABLED=0 go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
mv "$tmp/helm" "$bin/helm"
echo "$bin/helm"
