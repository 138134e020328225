package controllers_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/node/nodetest/nodeproc"
)

// The chart's teardown hook (`roomring operator release-finalizers`) after
// one of two releases watching a namespace is uninstalled: the other
// release's operator holds the namespace's claim and serves its Rooms, so
// their finalizers stay.
func TestReleaseFinalizersLeavesAClaimedNamespace(t *testing.T) {
	bin := nodeproc.Binary(t)
	ns := env.Namespace(t)
	n := startNode(t, "node-b")
	cfg, _ := claimingOperator(t, ns, "team-b/roomring")
	runOperator(t, env.Config, cfg, n.Addr())
	create(t, newRoom(ns, "hall", "", "Hall"))
	waitStatus(t, ns, "hall", "ready", ready("node-b"))

	out, err := exec.Command(bin, "operator", "release-finalizers", "--kubeconfig", env.Kubeconfig,
		"--namespace", ns, "--claim-holder", "team-a/roomring", "--settle", "1s").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `namespace `+ns+` is served by operator "team-b/roomring": its Rooms keep their finalizers (0 released`) {
		t.Fatalf("release-finalizers: %v\n%s", err, out)
	}
	if r := mustRoom(t, ns, "hall"); !slices.Contains(r.Finalizers, v1alpha1.Finalizer) {
		t.Fatalf("finalizers after release-finalizers: %v", r.Finalizers)
	}
}
