#!/usr/bin/env bash
# Builds the binaries the envtest and e2e suites need into bin/ when they are
# missing: etcd and kube-apiserver from the Go module proxy (setup-envtest
# cannot download here), pinned by the modules under hack/tools/.
#
#   hack/build-test-binaries.sh [etcd|kube-apiserver|all]
#
# kube-apiserver takes ~8 minutes on two cores the first time.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/bin"
mkdir -p "$bin"
KUBE_VERSION="v1.36.3"

build_etcd() {
	[ -x "$bin/etcd" ] && return 0
	echo ">> building etcd into bin/etcd"
	(cd "$root/hack/tools/etcd" && CGO_ENABLED=0 go build -trimpath -o "$bin/etcd.tmp" . && mv "$bin/etcd.tmp" "$bin/etcd")
}

build_kube_apiserver() {
	[ -x "$bin/kube-apiserver" ] && return 0
	echo ">> building kube-apiserver $KUBE_VERSION into bin/kube-apiserver (slow the first time)"
	(cd "$root/hack/tools/kube-apiserver" && CGO_ENABLED=0 go build -trimpath \
		-ldflags "-X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36" \
		-o "$bin/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver && mv "$bin/kube-apiserver.tmp" "$bin/kube-apiserver")
}

case "${1:-all}" in
etcd) build_etcd ;;
kube-apiserver) build_kube_apiserver ;;
all) build_etcd; build_kube_apiserver ;;
*) echo "usage: $0 [etcd|kube-apiserver|all]" >&2; exit 2 ;;
esac
