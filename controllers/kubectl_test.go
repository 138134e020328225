package controllers_test

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/kube/kubetest"
	"github.com/roomring/roomring/node/nodetest"
)

// The real kubectl against the test API server: apply the sample Rooms,
// read them back with the printer columns the CRD declares, see a
// rejection's message, and delete the Rooms again.

func kubectl(t *testing.T, ns string, stdin string, args ...string) (string, error) {
	t.Helper()
	path, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl is not on the PATH: %v", err)
	}
	cmd := exec.Command(path, append([]string{"--kubeconfig", env.Kubeconfig, "--namespace", ns}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustKubectl(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := kubectl(t, ns, "", args...)
	if err != nil {
		t.Fatalf("kubectl %v: %v\n%s", args, err, out)
	}
	return out
}

var (
	header     = regexp.MustCompile(`^NAME\s+ROOM ID\s+DISPLAY NAME\s+READY\s+PHASE\s+REASON\s+OWNER\s+VIEWERS\s+AGE$`)
	headerWide = regexp.MustCompile(`^NAME\s+ROOM ID\s+DISPLAY NAME\s+READY\s+PHASE\s+REASON\s+OWNER\s+VIEWERS\s+AGE\s+GENERATION\s+OBSERVED\s+MESSAGE$`)
)

func TestKubectlSamples(t *testing.T) {
	ns := env.Namespace(t)
	n := startNode(t, "node-a")
	startOperator(t, ns, []string{n.Addr()})
	g := nodetest.Guest(t, n, "watcher")

	samples := filepath.Join(kubetest.RepoRoot(), "config", "samples")
	out := mustKubectl(t, ns, "apply", "-f", samples)
	for _, name := range []string{"main-stage", "workshop-a", "lounge", "backstage"} {
		if !strings.Contains(out, "room.roomring.dev/"+name+" created") {
			t.Fatalf("kubectl apply output lacks %s:\n%s", name, out)
		}
	}
	g.Wait(wait, "room.create room_1", func(f nodetest.Frame) bool {
		var rc nodetest.RoomConfig
		return f.Kind() == "room.create" && len(f) == 2 && decodeOK(f[1], &rc) && rc.ID == "room_1"
	})
	g.Call("room.enter", map[string]any{"room": "room_1"})

	want := map[string]*regexp.Regexp{
		"main-stage": regexp.MustCompile(`^main-stage\s+room_1\s+Main Stage\s+True\s+Ready\s+Serving\s+node-a\s+1\s+\S+$`),
		"workshop-a": regexp.MustCompile(`^workshop-a\s+workshop-a\s+Workshop A\s+True\s+Ready\s+Serving\s+node-a\s+0\s+\S+$`),
		"lounge":     regexp.MustCompile(`^lounge\s+lounge\s+Lounge\s+True\s+Ready\s+Serving\s+node-a\s+0\s+\S+$`),
		"backstage":  regexp.MustCompile(`^backstage\s+backstage\s+Backstage\s+True\s+Ready\s+Serving\s+node-a\s+0\s+\S+$`),
	}
	// -o wide adds the generations and the Ready message.
	wantWide := map[string]*regexp.Regexp{
		"main-stage": regexp.MustCompile(`^main-stage\s+room_1\s+Main Stage\s+True\s+Ready\s+Serving\s+node-a\s+1\s+\S+\s+1\s+1\s+the pool serves generation 1 as room "room_1"$`),
		"workshop-a": regexp.MustCompile(`^workshop-a\s+workshop-a\s+Workshop A\s+True\s+Ready\s+Serving\s+node-a\s+0\s+\S+\s+1\s+1\s+the pool serves generation 1 as room "workshop-a"$`),
		"lounge":     regexp.MustCompile(`^lounge\s+lounge\s+Lounge\s+True\s+Ready\s+Serving\s+node-a\s+0\s+\S+\s+1\s+1\s+the pool serves generation 1 as room "lounge"$`),
		"backstage":  regexp.MustCompile(`^backstage\s+backstage\s+Backstage\s+True\s+Ready\s+Serving\s+node-a\s+0\s+\S+\s+1\s+1\s+the pool serves generation 1 as room "backstage"$`),
	}
	table := waitTable(t, ns, header, want)
	t.Logf("kubectl get rooms:\n%s", table)
	table = waitTable(t, ns, headerWide, wantWide, "-o", "wide")
	t.Logf("kubectl get rooms -o wide:\n%s", table)
	// The short name and the category reach the Rooms too.
	if out := mustKubectl(t, ns, "get", "rm", "workshop-a", "-o", "jsonpath={.status.phase} {.status.ownerNode}"); out != "Ready node-a" {
		t.Fatalf("kubectl get rm: %q", out)
	}
	if out := mustKubectl(t, ns, "get", "roomring", "-o", "name"); strings.Count(out, "room.roomring.dev/") != 4 {
		t.Fatalf("kubectl get roomring: %q", out)
	}

	// A Room the API server rejects: kubectl shows why.
	bad := `apiVersion: roomring.dev/v1alpha1
kind: Room
metadata:
  name: bad
spec:
  displayName: Bad
  reactions: ["👏", "🍕"]
`
	out, err := kubectl(t, ns, bad, "apply", "-f", "-")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !strings.Contains(out, `spec.reactions[1]: Unsupported value: "🍕"`) {
		t.Fatalf("kubectl apply of a bad reaction: %v\n%s", err, out)
	}

	// kubectl delete: the finalizers close the rooms and let the Rooms go.
	mustKubectl(t, ns, "delete", "-f", samples, "--wait=true", "--timeout=20s")
	g.Wait(wait, "room.delete room_1", isRoomDelete("room_1"))
	if out := mustKubectl(t, ns, "get", "rooms", "-o", "name"); strings.TrimSpace(out) != "" {
		t.Fatalf("Rooms left after delete: %q", out)
	}
}

// waitTable waits until kubectl get rooms (with args) prints header and one
// row per Room of want, each matching its pattern, and returns the table.
func waitTable(t *testing.T, ns string, header *regexp.Regexp, want map[string]*regexp.Regexp, args ...string) string {
	t.Helper()
	var table string
	testkit.EventuallyNil(t, wait, "kubectl get rooms "+strings.Join(args, " "), func() error {
		out, err := kubectl(t, ns, "", append([]string{"get", "rooms"}, args...)...)
		table = out
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != len(want)+1 || !header.MatchString(lines[0]) {
			return fmt.Errorf("output:\n%s", out)
		}
		for _, l := range lines[1:] {
			name := strings.Fields(l)[0]
			if re := want[name]; re == nil || !re.MatchString(l) {
				return fmt.Errorf("row %q does not match; output:\n%s", l, out)
			}
		}
		return nil
	})
	return table
}
