package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest/nodeproc"
)

// TestLifecycle walks a platform team's lifecycle of the chart against the
// API server: install with the operator running (as a process, like
// TestWholeInstall) and Rooms holding its finalizer; a second release in
// another namespace, which shares the CRD; upgrades that keep the generated
// Secret and the pods' checksum/secret (no roll) until a key changes; and
// helm uninstall, whose post-delete hook Job — run here as a process, the
// kubelet's part — releases the finalizers, so deleting the Rooms and the
// CRD completes. (envtest runs no kube-controller-manager, so namespace
// deletion, the namespace controller's job, cannot be shown here; it waits
// on the same Room finalizers.)
func TestLifecycle(t *testing.T) {
	c := start(t)
	r := readReadme(t, c.root)
	readmeWorkDir(t, c, r)
	l := &lifecycle{t: t, c: c, chart: filepath.Join(c.root, "charts", "roomring")}
	l.bin = buildRoomring(t, c, r)

	c.kubectl("create", "namespace", ns)
	c.run(c.helm, "install", release, l.chart, "-n", ns)
	c.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/rooms.roomring.dev")
	l.startOperator()
	l.roomsWithFinalizer()
	l.secondRelease()
	l.upgradesKeepSecret()
	l.uninstall()
	l.deleteEverything()
}

type lifecycle struct {
	t        *testing.T
	c        *cluster
	chart    string
	bin      string
	operator *nodeproc.Proc
}

var lifecycleRooms = []string{"keynote", "lounge"}

// startOperator runs the operator Deployment's container; its pool is an
// address where nothing listens (it adds the finalizer before it reaches
// the pool).
func (l *lifecycle) startOperator() {
	t, c := l.t, l.c
	sa, ctr := c.workload("deployment", full+"-operator")
	env := c.podEnv(ctr, full+"-operator-0", "127.0.0.30")
	if env["GOMEMLIMIT"] != "268435456" { // operator.resources.limits.memory: 256Mi
		t.Errorf("the operator's GOMEMLIMIT = %q, want its memory limit in bytes", env["GOMEMLIMIT"])
	}
	env["KUBECONFIG"] = c.serviceAccountKubeconfig(sa)
	args := podArgs(t, ctr, env, map[string]string{
		"pool":                      nodeproc.FreeAddr(t, "127.0.0.30"),
		"metrics-bind-address":      "127.0.0.30:0",
		"health-probe-bind-address": "127.0.0.30:0",
	})
	args = append(args, "--leader-election-namespace="+ns)
	l.operator = startProc(t, full+"-operator-0", l.bin, args, env)
}

// roomsWithFinalizer applies two Rooms and waits for the operator's
// finalizer on both.
func (l *lifecycle) roomsWithFinalizer() {
	for _, name := range lifecycleRooms {
		apply(l.t, l.c, fmt.Sprintf("apiVersion: roomring.dev/v1alpha1\nkind: Room\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  displayName: %s\n", name, ns, name))
	}
	testkit.EventuallyNil(l.t, 30*time.Second, "the operator's finalizer on the Rooms", func() error {
		for _, name := range lifecycleRooms {
			if f := l.finalizers(name); !slices.Contains(f, "roomring.dev/pool") {
				return fmt.Errorf("room %s: finalizers %v", name, f)
			}
		}
		return nil
	})
}

func (l *lifecycle) finalizers(room string) []string {
	var obj struct {
		Metadata struct{ Finalizers []string } `json:"metadata"`
	}
	out := l.c.kubectl("-n", ns, "get", "room", room, "-o", "json")
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		l.t.Fatal(err)
	}
	return obj.Metadata.Finalizers
}

func apply(t *testing.T, c *cluster, manifest string) {
	t.Helper()
	cmd := exec.Command("kubectl", "apply", "-f", "-")
	cmd.Env, cmd.Stdin = c.env, strings.NewReader(manifest)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
}

// secondRelease: another release in another namespace installs (the CRD is
// the first release's and is shared, not re-rendered), and says so.
func (l *lifecycle) secondRelease() {
	t, c := l.t, l.c
	c.kubectl("create", "namespace", "roomring-b")
	out := c.run(c.helm, "install", "rr2", l.chart, "-n", "roomring-b")
	if !strings.Contains(out, "STATUS: deployed") || !strings.Contains(out, "installed by release "+ns+"/"+release) {
		t.Errorf("second release's install output lacks the shared CRD:\n%s", out)
	}
	ann := c.getJSON("crd", "rooms.roomring.dev")["metadata"].(map[string]any)["annotations"].(map[string]any)
	if ann["meta.helm.sh/release-name"] != release || ann["meta.helm.sh/release-namespace"] != ns {
		t.Errorf("the CRD changed owner: %v", ann)
	}
	c.getJSON("-n", "roomring-b", "statefulset", "rr2-roomring")
	// Its own upgrade keeps sharing.
	c.run(c.helm, "upgrade", "rr2", l.chart, "-n", "roomring-b", "--reuse-values")
}

// podChecksum returns the checksum/secret of a workload's pod template.
func (l *lifecycle) podChecksum(kind, name string) string {
	obj := l.c.getJSON("-n", ns, kind, name)
	ann, _ := obj["spec"].(map[string]any)["template"].(map[string]any)["metadata"].(map[string]any)["annotations"].(map[string]any)
	sum, _ := ann["checksum/secret"].(string)
	if len(sum) != 64 {
		l.t.Fatalf("%s %s: checksum/secret %q", kind, name, sum)
	}
	return sum
}

// upgradesKeepSecret: helm upgrade keeps the generated Secret and so the
// pods' checksum (no roll); a changed key changes it (the pods roll).
func (l *lifecycle) upgradesKeepSecret() {
	t, c := l.t, l.c
	before, sum := c.secretData(full), l.podChecksum("statefulset", full)
	c.run(c.helm, "upgrade", release, l.chart, "-n", ns, "--reuse-values")
	if after := c.secretData(full); !mapsEqual(before, after) {
		t.Errorf("helm upgrade changed the generated Secret")
	}
	if got := l.podChecksum("statefulset", full); got != sum {
		t.Errorf("helm upgrade changed checksum/secret (%s → %s): the pods would roll for nothing", sum, got)
	}
	c.run(c.helm, "upgrade", release, l.chart, "-n", ns, "--reuse-values", "--set", "secrets.clusterKey=a-new-cluster-passphrase")
	if c.secretData(full)["jwt-secret"] != before["jwt-secret"] {
		t.Error("changing the cluster key changed the JWT secret")
	}
	for _, w := range []string{"statefulset/" + full, "deployment/" + full + "-operator"} {
		kind, name, _ := strings.Cut(w, "/")
		if l.podChecksum(kind, name) == sum {
			t.Errorf("%s: a new cluster key left checksum/secret as it was: the pods would keep the old key", w)
		}
	}
}
