// Package e2e installs roomring the way platform teams do — the commands of
// the README's "Run on Kubernetes" section, read from the README and run
// verbatim (readme_test.go) — into a real kube-apiserver (with etcd, both
// from bin/, started by envtest).
//
// TestHelmInstall checks what the API server holds: pods never run there (no
// kubelet), so the objects themselves are asserted: the API server's
// validation of every rendered object, the CRD's establishment and its Room
// schema, the RBAC the service accounts end up with (answered by the API
// server's RBAC authorizer), the Secret kept across upgrades, and what helm
// uninstall leaves behind.
//
// TestWholeInstall (install_test.go) then does the kubelet's part: it runs
// the installed StatefulSet and Deployment as local `roomring node` and
// `roomring operator` processes (pods_test.go) and drives the pool with real
// venueless and Socket.IO clients, checking `kubectl get rooms`.
//
// `make e2e` runs it (ROOMRING_E2E=1); a plain `go test ./...` skips it.
package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

const (
	ns      = "roomring" // as in the README's "Run on Kubernetes"
	release = "rr"
	full    = "rr-roomring"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// cluster is a running API server and the tools pointed at it.
type cluster struct {
	t    *testing.T
	root string
	env  []string // KUBECONFIG and helm's private home directories
	helm string
	cfg  *rest.Config // the API server, as the admin
}

func start(t *testing.T) *cluster {
	t.Helper()
	if os.Getenv("ROOMRING_E2E") == "" {
		t.Skip("e2e test: run make e2e")
	}
	root := repoRoot()
	bin := filepath.Join(root, "bin")
	for _, b := range []string{"etcd", "kube-apiserver", "helm"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			t.Fatalf("bin/%s is missing (make test-binaries helm): %v", b, err)
		}
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatalf("kubectl is not on the PATH: %v", err)
	}
	env := &envtest.Environment{BinaryAssetsDirectory: bin, ControlPlaneStartTimeout: 90 * time.Second,
		ControlPlaneStopTimeout: 30 * time.Second}
	if _, err := env.Start(); err != nil {
		t.Fatalf("start kube-apiserver and etcd: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stop the API server: %v", err)
		}
	})
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, env.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, root: root, helm: filepath.Join(bin, "helm"), cfg: env.Config, env: append(os.Environ(),
		"KUBECONFIG="+kubeconfig,
		"HELM_CACHE_HOME="+filepath.Join(dir, "helm-cache"),
		"HELM_CONFIG_HOME="+filepath.Join(dir, "helm-config"),
		"HELM_DATA_HOME="+filepath.Join(dir, "helm-data"),
	)}
	return c
}

// run runs a command against the cluster and returns its stdout; a failure
// fails the test with stderr.
func (c *cluster) run(name string, args ...string) string {
	c.t.Helper()
	out, err := c.try(name, args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

func (c *cluster) try(name string, args ...string) (string, error) {
	c.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = c.root
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

func (c *cluster) kubectl(args ...string) string {
	c.t.Helper()
	return c.run("kubectl", args...)
}

// getJSON returns an object as decoded JSON.
func (c *cluster) getJSON(args ...string) map[string]any {
	c.t.Helper()
	var v map[string]any
	out := c.kubectl(append([]string{"get", "-o", "json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		c.t.Fatalf("kubectl get %v: %v", args, err)
	}
	return v
}

func (c *cluster) secretData(name string) map[string]string {
	c.t.Helper()
	out := map[string]string{}
	data, _ := c.getJSON("-n", ns, "secret", name)["data"].(map[string]any)
	for k, v := range data {
		b, err := base64.StdEncoding.DecodeString(v.(string))
		if err != nil {
			c.t.Fatal(err)
		}
		out[k] = string(b)
	}
	return out
}

// canI asks the API server's authorizer whether the service account may do
// verb on resource (resource.group, or resource.group/subresource) in
// namespace.
func (c *cluster) canI(sa, verb, resource, namespace string) bool {
	c.t.Helper()
	args := []string{"auth", "can-i", verb}
	if res, sub, ok := strings.Cut(resource, "/"); ok {
		// kubectl reads TYPE/NAME; a subresource is a flag.
		args = append(args, res, "--subresource", sub)
	} else {
		args = append(args, resource)
	}
	out, _ := c.try("kubectl", append(args, "-n", namespace, "--as", "system:serviceaccount:"+ns+":"+sa)...)
	return strings.TrimSpace(out) == "yes"
}

func names(list map[string]any) []string {
	var out []string
	items, _ := list["items"].([]any)
	for _, it := range items {
		m, _ := it.(map[string]any)["metadata"].(map[string]any)
		out = append(out, m["name"].(string))
	}
	slices.Sort(out)
	return out
}

// TestHelmInstall runs the README's install commands against the API server
// and checks, step by step, what it then holds.
func TestHelmInstall(t *testing.T) {
	c := start(t)
	// The README's install commands (readme_test.go), run verbatim.
	r := readReadme(t, c.root)
	readmeWorkDir(t, c, r)
	r.sh(r.cmd("kubectl create namespace"))
	// The DSN Secret a platform team creates before a multi-node install.
	r.sh(r.cmd("kubectl -n roomring create secret generic roomring-db"))
	install := r.cmd("helm install")
	upgrade := r.replace(install, regexp.MustCompile(`^helm install `), "helm upgrade ")
	out := r.sh(install)
	for _, want := range []string{"STATUS: deployed", "ws://$ADDR/ws/world/default/", "kind: Room", "get svc " + full} {
		if !strings.Contains(out, want) {
			t.Errorf("helm install output lacks %q:\n%s", want, out)
		}
	}

	checkInstalledObjects(t, c)
	checkInstalledCRD(t, c)
	checkInstalledRBAC(t, c)
	checkSecretAcrossUpgrades(t, c, r, upgrade)
	checkSampleRooms(t, c, r)
	checkUninstall(t, c)
}

// checkInstalledObjects: every object is in the API server, as rendered.
func checkInstalledObjects(t *testing.T, c *cluster) {
	sts := c.getJSON("-n", ns, "statefulset", full)
	spec := sts["spec"].(map[string]any)
	if spec["replicas"].(float64) != 3 || spec["serviceName"] != full+"-gossip" || spec["podManagementPolicy"] != "Parallel" {
		t.Errorf("StatefulSet spec: replicas %v, serviceName %v, podManagementPolicy %v", spec["replicas"], spec["serviceName"], spec["podManagementPolicy"])
	}
	if got := names(c.getJSON("-n", ns, "services")); !slices.Equal(got, []string{full, full + "-gossip", full + "-operator-metrics", full + "-pool"}) {
		t.Errorf("Services = %v", got)
	}
	gossip := c.getJSON("-n", ns, "service", full+"-gossip")["spec"].(map[string]any)
	if gossip["clusterIP"] != "None" || gossip["publishNotReadyAddresses"] != true {
		t.Errorf("gossip Service: clusterIP %v, publishNotReadyAddresses %v", gossip["clusterIP"], gossip["publishNotReadyAddresses"])
	}
	client := c.getJSON("-n", ns, "service", full)["spec"].(map[string]any)
	if client["type"] != "LoadBalancer" {
		t.Errorf("client Service type = %v", client["type"])
	}
	c.getJSON("-n", ns, "deployment", full+"-operator")
	c.getJSON("-n", ns, "poddisruptionbudget", full)
	if got := names(c.getJSON("-n", ns, "roles")); !slices.Equal(got, []string{full + "-node", full + "-operator"}) {
		t.Errorf("Roles = %v", got)
	}
	if got := names(c.getJSON("-n", ns, "rolebindings")); !slices.Equal(got, []string{full + "-node", full + "-operator"}) {
		t.Errorf("RoleBindings = %v", got)
	}
}

// checkInstalledCRD: the CRD is established and kept on uninstall.
func checkInstalledCRD(t *testing.T, c *cluster) {
	c.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/rooms.roomring.dev")
	crd := c.getJSON("crd", "rooms.roomring.dev")
	if crd["metadata"].(map[string]any)["annotations"].(map[string]any)["helm.sh/resource-policy"] != "keep" {
		t.Error("the installed CRD lacks helm.sh/resource-policy: keep")
	}
}

// checkInstalledRBAC: RBAC, as the API server's authorizer answers it: what
// config/rbac grants (test/chart checks the chart's rules equal it) and no
// more.
func checkInstalledRBAC(t *testing.T, c *cluster) {
	for _, v := range []string{"get", "list", "create", "update", "delete"} {
		if !c.canI(full+"-node", v, "rooms.roomring.dev", ns) {
			t.Errorf("nodes may not %s rooms", v)
		}
	}
	for _, q := range []struct {
		verb, resource string
		want           bool
	}{
		{"watch", "rooms.roomring.dev", false}, {"patch", "rooms.roomring.dev", false},
		{"update", "rooms.roomring.dev/status", false}, {"get", "secrets", false}, {"list", "pods", false},
	} {
		if got := c.canI(full+"-node", q.verb, q.resource, ns); got != q.want {
			t.Errorf("nodes may %s %s: %v, want %v", q.verb, q.resource, got, q.want)
		}
	}
	if c.canI(full+"-node", "list", "rooms.roomring.dev", "default") {
		t.Error("nodes may list rooms outside their namespace")
	}
	for _, q := range []struct {
		verb, resource string
		want           bool
	}{
		{"watch", "rooms.roomring.dev", true}, {"update", "rooms.roomring.dev/status", true},
		{"update", "rooms.roomring.dev/finalizers", true}, {"create", "events", true},
		{"update", "leases.coordination.k8s.io", true},
		// The finalizer is added and removed by a patch of the metadata; the
		// operator never updates a Room (it would write the spec).
		{"patch", "rooms.roomring.dev", true}, {"update", "rooms.roomring.dev", false},
		{"patch", "rooms.roomring.dev/status", false},
		{"list", "endpoints", false}, {"watch", "services", false}, {"list", "endpointslices.discovery.k8s.io", false},
		{"create", "events.events.k8s.io", false},
		{"create", "rooms.roomring.dev", false}, {"delete", "services", false},
		// Worlds as Rooms; the Secrets their spec.jwt.secrets reference
		// are read (and their metadata watched), never written.
		{"watch", "worlds.roomring.dev", true}, {"patch", "worlds.roomring.dev", true},
		{"update", "worlds.roomring.dev", false}, {"update", "worlds.roomring.dev/status", true},
		{"update", "worlds.roomring.dev/finalizers", true},
		{"get", "secrets", true}, {"watch", "secrets", true},
		{"create", "secrets", false}, {"update", "secrets", false}, {"delete", "secrets", false},
	} {
		if got := c.canI(full+"-operator", q.verb, q.resource, ns); got != q.want {
			t.Errorf("the operator may %s %s: %v, want %v", q.verb, q.resource, got, q.want)
		}
	}
}

// checkSecretAcrossUpgrades: the generated Secret survives upgrades
// (lookup); a given value wins.
func checkSecretAcrossUpgrades(t *testing.T, c *cluster, r *readme, upgrade string) {
	first := c.secretData(full)
	for _, k := range []string{"jwt-secret", "cluster-key", "admin-token"} {
		if len(first[k]) != 48 {
			t.Errorf("generated %s: %d characters", k, len(first[k]))
		}
	}
	r.sh(upgrade)
	if again := c.secretData(full); !mapsEqual(again, first) {
		t.Errorf("helm upgrade changed the generated Secret:\n before %v\n after  %v", first, again)
	}
	given := "a-jwt-secret-given-at-upgrade-000"
	r.sh(upgrade + " --set secrets.jwtSecret=" + given)
	third := c.secretData(full)
	if third["jwt-secret"] != given || third["cluster-key"] != first["cluster-key"] || third["admin-token"] != first["admin-token"] {
		t.Errorf("upgrade with secrets.jwtSecret: %v (want the given JWT secret and the other keys kept)", third)
	}
}

// checkSampleRooms: the sample Rooms are accepted by the CRD the chart
// installed, and an invalid one is refused by its schema.
func checkSampleRooms(t *testing.T, c *cluster, r *readme) {
	r.sh(r.cmd("kubectl -n roomring apply -f config/samples/"))
	rooms := r.sh(r.cmd("kubectl -n roomring get rooms"))
	for _, col := range []string{"DISPLAY NAME", "OWNER", "VIEWERS", "READY", "Main Stage"} {
		if !strings.Contains(rooms, col) {
			t.Errorf("kubectl get rooms lacks %q:\n%s", col, rooms)
		}
	}
	bad := "apiVersion: roomring.dev/v1alpha1\nkind: Room\nmetadata:\n  name: bad\nspec:\n  displayName: Bad\n  reactions: [\"🍕\"]\n"
	cmd := exec.Command("kubectl", "-n", ns, "apply", "-f", "-")
	cmd.Env, cmd.Stdin = c.env, strings.NewReader(bad)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "reactions") {
		t.Errorf("a Room with a reaction outside the allowed set was accepted: %v\n%s", err, out)
	}
}

// checkUninstall: helm uninstall removes the workloads and keeps the CRD and
// the Rooms.
func checkUninstall(t *testing.T, c *cluster) {
	// --no-hooks: the post-delete hook Job (releasing the operator's
	// finalizers) needs a kubelet; TestLifecycle runs it.
	c.run(c.helm, "uninstall", release, "-n", ns, "--wait", "--timeout", "60s", "--no-hooks")
	if _, err := c.try("kubectl", "-n", ns, "get", "statefulset", full); err == nil {
		t.Error("the StatefulSet outlived helm uninstall")
	}
	c.getJSON("crd", "rooms.roomring.dev")
	if got := names(c.getJSON("-n", ns, "rooms")); len(got) == 0 {
		t.Error("the Rooms went with helm uninstall")
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
