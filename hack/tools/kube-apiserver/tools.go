//go:build tools

// Package tools pins the kube-apiserver command for hack/build-test-binaries.sh.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
