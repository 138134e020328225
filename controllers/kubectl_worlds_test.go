package controllers_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/kube/kubetest"
)

// The sample World through the real kubectl: apply config/samples/worlds/
// (a Secret, a World, a Room of it), read the World back with its printer
// columns while a client signed with the sample's key is connected, and
// delete it again.
func TestKubectlWorlds(t *testing.T) {
	ns := env.Namespace(t)
	n := startNode(t, "node-a")
	startOperator(t, ns, []string{n.Addr()})

	samples := filepath.Join(kubetest.RepoRoot(), "config", "samples", "worlds")
	out := mustKubectl(t, ns, "apply", "-f", samples)
	for _, o := range []string{"secret/expo-jwt", "world.roomring.dev/expo", "room.roomring.dev/expo-hall"} {
		if !strings.Contains(out, o+" created") {
			t.Fatalf("kubectl apply output lacks %s:\n%s", o, out)
		}
	}
	waitStatus(t, ns, "expo-hall", "ready", ready("node-a"))
	const sampleKey = "expo-sample-jwt-secret-change-me-0123456789" // the sample's, as its comment tells
	c, cfg := attend(t, n, "expo", sampleKey, "alice", "attendee")
	if got := roomIDs(cfg); len(got) != 1 || got[0] != "expo-hall" {
		t.Fatalf("expo's rooms %v", got)
	}

	header := regexp.MustCompile(`^NAME\s+DISPLAY NAME\s+READY\s+PHASE\s+ROOMS\s+CONNECTIONS\s+AGE$`)
	row := regexp.MustCompile(`^expo\s+Expo 2026\s+True\s+Ready\s+1\s+1\s+\S+$`)
	var table string
	testkit.EventuallyNil(t, wait, "kubectl get worlds", func() error {
		out, err := kubectl(t, ns, "", "get", "worlds")
		table = out
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if err != nil || len(lines) != 2 || !header.MatchString(lines[0]) || !row.MatchString(lines[1]) {
			return fmt.Errorf("%v:\n%s", err, out)
		}
		return nil
	})
	t.Logf("kubectl get worlds:\n%s", table)
	wide := mustKubectl(t, ns, "get", "wd", "expo", "-o", "wide")
	if !strings.Contains(wide, `Serving   the pool serves generation 1 as world "expo"`) {
		t.Fatalf("kubectl get wd -o wide:\n%s", wide)
	}

	// kubectl delete: the World's finalizer closes the world (its client is
	// disconnected) and lets it go.
	mustKubectl(t, ns, "delete", "-f", samples, "--wait=true", "--timeout=20s")
	if err := c.Closed(wait); err == nil {
		t.Fatal("closed without an error")
	}
	if out := mustKubectl(t, ns, "get", "worlds,rooms", "-o", "name"); strings.TrimSpace(out) != "" {
		t.Fatalf("left after delete: %q", out)
	}
}
