// Package chart checks what charts/roomring renders: `helm template` over the
// value sets of charts/roomring/ci and a few more, with assertions on the
// objects that matter (pod security, probes, the headless Services, the
// Secret, RBAC, the CRD). `make chart-lint` runs it with the pinned helm from
// bin/ (hack/helm.sh); a plain `go test ./...` skips it when bin/helm is
// missing. TestArgsAreRealFlags parses the rendered args with the flag sets of
// the node and operator code, so a renamed flag fails here.
package chart

import (
	"bytes"
	"encoding/base64"
	"errors"
	goflag "flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/roomring/roomring/controllers/poolclient"

	"sigs.k8s.io/yaml"

	"github.com/roomring/roomring/controllers"
	roomnode "github.com/roomring/roomring/node"
)

const (
	release   = "rr"
	namespace = "events"
	fullname  = "rr-roomring"
)

var (
	root     = mustAbs("../..")
	chartDir = filepath.Join(root, "charts", "roomring")
)

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return a
}

func helmBin(t *testing.T) string {
	t.Helper()
	h := os.Getenv("HELM")
	if h == "" {
		h = filepath.Join(root, "bin", "helm")
	}
	if _, err := os.Stat(h); err != nil {
		if os.Getenv("ROOMRING_CHART_TEST") != "" {
			t.Fatalf("helm not found at %s (hack/helm.sh builds it)", h)
		}
		t.Skipf("helm not found at %s: run make chart-lint", h)
	}
	return h
}

// obj is one rendered Kubernetes object.
type obj map[string]any

func (o obj) kind() string { return str(o, "kind") }
func (o obj) name() string { return str(o, "metadata", "name") }

// get walks maps by key and lists by index (an int path element).
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := asMap(v)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case obj:
		return m, true
	}
	return nil, false
}

func str(v any, path ...any) string {
	s, _ := get(v, path...).(string)
	return s
}

func list(v any, path ...any) []any {
	l, _ := get(v, path...).([]any)
	return l
}

func num(v any, path ...any) int {
	f, ok := get(v, path...).(float64)
	if !ok {
		return -1
	}
	return int(f)
}

// rendered is the output of one helm template run.
type rendered struct {
	objs []obj
}

func (r rendered) find(kind, name string) obj {
	for _, o := range r.objs {
		if o.kind() == kind && o.name() == name {
			return o
		}
	}
	return nil
}

func (r rendered) must(t *testing.T, kind, name string) obj {
	t.Helper()
	o := r.find(kind, name)
	if o == nil {
		t.Fatalf("no %s %s rendered; have %v", kind, name, r.names())
	}
	return o
}

func (r rendered) all(kind string) []obj {
	var out []obj
	for _, o := range r.objs {
		if o.kind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func (r rendered) names() []string {
	var out []string
	for _, o := range r.objs {
		out = append(out, o.kind()+"/"+o.name())
	}
	return out
}

// template runs helm template with args (value files relative to the chart,
// --set ...) and returns its objects, or the error output.
func template(t *testing.T, args ...string) (rendered, error) {
	t.Helper()
	full := append([]string{"template", release, chartDir, "--namespace", namespace}, args...)
	cmd := exec.Command(helmBin(t), full...)
	cmd.Dir = chartDir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return rendered{}, fmt.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var r rendered
	for _, doc := range splitDocs(stdout.String()) {
		var o obj
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("rendered YAML does not parse: %v\n%s", err, doc)
		}
		if len(o) == 0 {
			continue
		}
		if o.kind() == "" || o.name() == "" || str(o, "apiVersion") == "" {
			t.Fatalf("object without apiVersion, kind or name:\n%s", doc)
		}
		r.objs = append(r.objs, o)
	}
	return r, nil
}

func splitDocs(s string) []string {
	var docs []string
	var cur strings.Builder
	for line := range strings.SplitSeq(s, "\n") {
		if line == "---" {
			docs = append(docs, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	return append(docs, cur.String())
}

func render(t *testing.T, args ...string) rendered {
	t.Helper()
	r, err := template(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, r)
	return r
}

func ciValues(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no value sets in charts/roomring/ci: %v", err)
	}
	return files
}

// TestValueSets renders every value set of charts/roomring/ci and checks the
// invariants every rendering must hold.
func TestValueSets(t *testing.T) {
	for _, f := range ciValues(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			render(t, "-f", f)
		})
	}
}

// checkInvariants holds for every value set: namespaced objects in the
// release namespace (or the Rooms' namespace), workloads hardened and probed,
// selectors matching their pods, Services pointing at named container ports.
func checkInvariants(t *testing.T, r rendered) {
	t.Helper()
	for _, o := range r.objs {
		ns := str(o, "metadata", "namespace")
		switch o.kind() {
		case "CustomResourceDefinition":
			if ns != "" {
				t.Errorf("CRD %s has a namespace", o.name())
			}
		default:
			if ns == "" {
				t.Errorf("%s/%s has no namespace", o.kind(), o.name())
			}
		}
		if str(o, "metadata", "labels", "app.kubernetes.io/instance") != release {
			t.Errorf("%s/%s lacks the instance label", o.kind(), o.name())
		}
	}
	ports := map[string]bool{} // named container ports of every workload, "name/protocol"
	for _, w := range append(r.all("StatefulSet"), r.all("Deployment")...) {
		checkWorkload(t, w)
		for _, c := range list(w, "spec", "template", "spec", "containers") {
			for _, p := range list(c, "ports") {
				ports[str(p, "name")+"/"+str(p, "protocol")] = true
			}
		}
	}
	for _, s := range r.all("Service") {
		sel, _ := asMap(get(s, "spec", "selector"))
		if len(sel) == 0 {
			t.Errorf("Service %s has no selector", s.name())
		}
		if matchesWorkload(r, sel) == nil {
			t.Errorf("Service %s selects no workload's pods: %v", s.name(), sel)
		}
		for _, p := range list(s, "spec", "ports") {
			tp := str(p, "targetPort")
			if !ports[tp+"/"+str(p, "protocol")] {
				t.Errorf("Service %s targets port %q/%s, which no container names", s.name(), tp, str(p, "protocol"))
			}
		}
	}
	for _, b := range r.all("RoleBinding") {
		if r.find("Role", str(b, "roleRef", "name")) == nil {
			t.Errorf("RoleBinding %s refers to missing Role %s", b.name(), str(b, "roleRef", "name"))
		}
	}
	for _, p := range r.all("PodDisruptionBudget") {
		sel, _ := asMap(get(p, "spec", "selector", "matchLabels"))
		if matchesWorkload(r, sel) == nil {
			t.Errorf("PodDisruptionBudget %s selects no pods", p.name())
		}
	}
	checkAdminPort(t, r)
}

// checkAdminPort: the nodes serve the admin API on a listener of its own
// (--admin-listen on the container port named admin); only the headless pool
// Service carries that port, and the operator's --pool points at it there.
func checkAdminPort(t *testing.T, r rendered) {
	t.Helper()
	var sts obj
	for _, w := range r.all("StatefulSet") {
		sts = w
	}
	if sts == nil {
		t.Fatal("no node StatefulSet")
	}
	node := container(t, sts, "node")
	listen, _ := flag(args(node), "admin-listen")
	adminPort := -1
	for _, p := range list(node, "ports") {
		if str(p, "name") == "admin" {
			adminPort = num(p, "containerPort")
		}
	}
	if adminPort < 0 || listen != fmt.Sprintf(":%d", adminPort) {
		t.Fatalf("node --admin-listen=%q, container port admin %d: want the admin API on the admin port", listen, adminPort)
	}
	if h, _ := flag(args(node), "listen"); h == listen {
		t.Errorf("--listen and --admin-listen are both %q", h)
	}
	for _, s := range r.all("Service") {
		pool := s.name() == fullname+"-pool"
		carries := false
		for _, p := range list(s, "spec", "ports") {
			if str(p, "targetPort") == "admin" || num(p, "targetPort") == adminPort {
				carries = true
				if pool && num(p, "port") != adminPort {
					t.Errorf("pool Service admin port %d, want %d", num(p, "port"), adminPort)
				}
			}
		}
		if carries != pool {
			t.Errorf("Service %s carries the admin port: %v (only the pool Service may, and must)", s.name(), carries)
		}
		if pool && str(s, "spec", "clusterIP") != "None" {
			t.Error("the pool Service is not headless")
		}
	}
	if op := r.find("Deployment", fullname+"-operator"); op != nil {
		p, _ := flag(args(container(t, op, "operator")), "pool")
		if want := fmt.Sprintf("%s-pool.%s.svc.cluster.local:%d", fullname, namespace, adminPort); p != want {
			t.Errorf("operator --pool=%q, want the pool Service's admin port %q", p, want)
		}
	}
}

// matchesWorkload returns the workload whose pod labels include sel.
func matchesWorkload(r rendered, sel map[string]any) obj {
	for _, w := range append(r.all("StatefulSet"), r.all("Deployment")...) {
		labels, _ := asMap(get(w, "spec", "template", "metadata", "labels"))
		ok := len(sel) > 0
		for k, v := range sel {
			if labels[k] != v {
				ok = false
			}
		}
		if ok {
			return w
		}
	}
	return nil
}

func checkWorkload(t *testing.T, w obj) {
	t.Helper()
	id := w.kind() + "/" + w.name()
	pod := get(w, "spec", "template", "spec")
	sel, _ := asMap(get(w, "spec", "selector", "matchLabels"))
	labels, _ := asMap(get(w, "spec", "template", "metadata", "labels"))
	for k, v := range sel {
		if labels[k] != v {
			t.Errorf("%s: selector %s=%v does not match its pod labels", id, k, v)
		}
	}
	if get(pod, "securityContext", "runAsNonRoot") != true {
		t.Errorf("%s: pod not runAsNonRoot", id)
	}
	if str(pod, "securityContext", "seccompProfile", "type") != "RuntimeDefault" {
		t.Errorf("%s: seccompProfile is not RuntimeDefault", id)
	}
	if str(pod, "serviceAccountName") == "" {
		t.Errorf("%s: no serviceAccountName", id)
	}
	for _, c := range list(pod, "containers") {
		cid := id + " container " + str(c, "name")
		sc := get(c, "securityContext")
		if get(sc, "readOnlyRootFilesystem") != true {
			t.Errorf("%s: root filesystem not read-only", cid)
		}
		if get(sc, "allowPrivilegeEscalation") != false {
			t.Errorf("%s: privilege escalation allowed", cid)
		}
		if !slices.Equal(list(sc, "capabilities", "drop"), []any{"ALL"}) {
			t.Errorf("%s: capabilities.drop = %v, want [ALL]", cid, list(sc, "capabilities", "drop"))
		}
		for _, p := range []string{"readinessProbe", "livenessProbe"} {
			if str(c, p, "httpGet", "path") == "" {
				t.Errorf("%s: no %s", cid, p)
			}
		}
		if get(c, "resources", "requests") == nil {
			t.Errorf("%s: no resource requests", cid)
		}
		if !strings.HasPrefix(str(c, "image"), "ghcr.io/roomring/roomring") {
			t.Errorf("%s: image %q", cid, str(c, "image"))
		}
		// Every volume mount has a volume; /tmp is writable.
		vols := map[string]bool{}
		for _, v := range list(pod, "volumes") {
			vols[str(v, "name")] = true
		}
		tmp := false
		for _, m := range list(c, "volumeMounts") {
			if !vols[str(m, "name")] {
				t.Errorf("%s: mount of missing volume %s", cid, str(m, "name"))
			}
			tmp = tmp || str(m, "mountPath") == "/tmp"
		}
		if !tmp {
			t.Errorf("%s: no writable /tmp under a read-only root", cid)
		}
	}
}

func container(t *testing.T, w obj, name string) any {
	t.Helper()
	for _, c := range list(w, "spec", "template", "spec", "containers") {
		if str(c, "name") == name {
			return c
		}
	}
	t.Fatalf("%s has no container %s", w.name(), name)
	return nil
}

func args(c any) []string {
	var out []string
	for _, a := range list(c, "args") {
		out = append(out, a.(string))
	}
	return out
}

// flag returns the value of --name=value in args, and whether it is there.
func flag(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name {
			return "", true
		}
	}
	return "", false
}

func wantFlag(t *testing.T, args []string, name, want string) {
	t.Helper()
	got, ok := flag(args, name)
	if !ok {
		t.Errorf("flag --%s missing from %v", name, args)
	} else if got != want {
		t.Errorf("--%s=%q, want %q", name, got, want)
	}
}

// env returns the container's env entry name.
func env(c any, name string) any {
	for _, e := range list(c, "env") {
		if str(e, "name") == name {
			return e
		}
	}
	return nil
}

func wantSecretEnv(t *testing.T, c any, name, secret, key string) {
	t.Helper()
	e := env(c, name)
	if e == nil {
		t.Errorf("env %s missing", name)
		return
	}
	if got := str(e, "valueFrom", "secretKeyRef", "name"); got != secret {
		t.Errorf("env %s from Secret %q, want %q", name, got, secret)
	}
	if got := str(e, "valueFrom", "secretKeyRef", "key"); got != key {
		t.Errorf("env %s from key %q, want %q", name, got, key)
	}
}

func TestDefaults(t *testing.T) {
	r := render(t)

	want := []string{
		"StatefulSet/" + fullname, "Deployment/" + fullname + "-operator",
		"Service/" + fullname, "Service/" + fullname + "-gossip", "Service/" + fullname + "-pool",
		"Service/" + fullname + "-operator-metrics",
		"Secret/" + fullname, "CustomResourceDefinition/rooms.roomring.dev",
		"ServiceAccount/" + fullname + "-node", "ServiceAccount/" + fullname + "-operator",
		"Role/" + fullname + "-node", "RoleBinding/" + fullname + "-node",
		"Role/" + fullname + "-operator", "RoleBinding/" + fullname + "-operator",
		"PodDisruptionBudget/" + fullname,
	}
	got := r.names()
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("rendered objects:\n got %v\nwant %v", got, want)
	}

	// The node StatefulSet.
	sts := r.must(t, "StatefulSet", fullname)
	if str(sts, "spec", "serviceName") != fullname+"-gossip" {
		t.Errorf("serviceName = %q, want the headless gossip Service", str(sts, "spec", "serviceName"))
	}
	if num(sts, "spec", "replicas") != 1 {
		t.Errorf("replicas = %d, want 1", num(sts, "spec", "replicas"))
	}
	pod := get(sts, "spec", "template", "spec")
	node := container(t, sts, "node")
	a := args(node)
	if len(a) == 0 || a[0] != "node" {
		t.Fatalf("node args = %v, want the node subcommand first", a)
	}
	wantFlag(t, a, "listen", ":8080")
	wantFlag(t, a, "admin-listen", ":9091")
	wantFlag(t, a, "gossip-addr", "0.0.0.0:7946")
	wantFlag(t, a, "gossip-advertise-addr", "$(POD_IP):7946")
	wantFlag(t, a, "join", fullname+"-gossip."+namespace+".svc.cluster.local:7946")
	wantFlag(t, a, "peer-addr", "0.0.0.0:7947")
	wantFlag(t, a, "peer-advertise-addr", "$(POD_IP):7947")
	wantFlag(t, a, "kube-namespace", namespace)
	wantFlag(t, a, "world", "default")
	wantFlag(t, a, "shutdown-timeout", "20s")
	for _, f := range []string{"allow-guests", "public-url", "dev", "jwt-secret", "cluster-key", "admin-token", "store"} {
		if _, ok := flag(a, f); ok {
			t.Errorf("--%s given by default (secrets come from the environment)", f)
		}
	}
	if str(env(node, "POD_IP"), "valueFrom", "fieldRef", "fieldPath") != "status.podIP" {
		t.Error("POD_IP is not the pod's IP")
	}
	wantSecretEnv(t, node, "ROOMRING_JWT_SECRET", fullname, "jwt-secret")
	wantSecretEnv(t, node, "ROOMRING_CLUSTER_KEY", fullname, "cluster-key")
	wantSecretEnv(t, node, "ROOMRING_ADMIN_TOKEN", fullname, "admin-token")
	if env(node, "ROOMRING_STORE") != nil {
		t.Error("ROOMRING_STORE set without store.dsnSecret")
	}
	if str(node, "readinessProbe", "httpGet", "path") != "/readyz" || str(node, "readinessProbe", "httpGet", "port") != "http" {
		t.Errorf("readiness probe = %v, want /readyz on http", get(node, "readinessProbe"))
	}
	if str(node, "livenessProbe", "httpGet", "path") != "/healthz" || str(node, "startupProbe", "httpGet", "path") != "/healthz" {
		t.Error("liveness and startup probes are not /healthz")
	}
	grace := num(pod, "terminationGracePeriodSeconds")
	sleep := num(node, "lifecycle", "preStop", "sleep", "seconds")
	if sleep != 5 || grace < sleep+20 {
		t.Errorf("preStop sleep %d s, grace %d s: want a sleep and a grace period covering it plus --shutdown-timeout", sleep, grace)
	}
	// The data directory is an emptyDir mounted where --data-dir points.
	dataDir, _ := flag(a, "data-dir")
	mounted := false
	for _, m := range list(node, "volumeMounts") {
		if str(m, "mountPath") == dataDir {
			for _, v := range list(pod, "volumes") {
				if str(v, "name") == str(m, "name") && get(v, "emptyDir") != nil {
					mounted = true
				}
			}
		}
	}
	if dataDir == "" || !mounted {
		t.Errorf("--data-dir %q is not an emptyDir mount", dataDir)
	}
	term := get(pod, "affinity", "podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution", 0, "podAffinityTerm")
	if str(term, "topologyKey") != "kubernetes.io/hostname" || str(term, "labelSelector", "matchLabels", "app.kubernetes.io/component") != "node" {
		t.Errorf("node pods are not spread over hosts by default: %v", get(pod, "affinity"))
	}
	if str(pod, "serviceAccountName") != fullname+"-node" {
		t.Errorf("node service account = %q", str(pod, "serviceAccountName"))
	}

	// Services: headless gossip (not-ready pods published), headless pool,
	// LoadBalancer client on 80.
	gossip := r.must(t, "Service", fullname+"-gossip")
	if str(gossip, "spec", "clusterIP") != "None" || get(gossip, "spec", "publishNotReadyAddresses") != true {
		t.Errorf("gossip Service must be headless and publish not-ready addresses: %v", get(gossip, "spec"))
	}
	var gp []string
	for _, p := range list(gossip, "spec", "ports") {
		gp = append(gp, fmt.Sprintf("%d/%s", num(p, "port"), str(p, "protocol")))
	}
	slices.Sort(gp)
	if !slices.Equal(gp, []string{"7946/TCP", "7946/UDP", "7947/TCP"}) {
		t.Errorf("gossip Service ports = %v", gp)
	}
	pool := r.must(t, "Service", fullname+"-pool")
	if str(pool, "spec", "clusterIP") != "None" || get(pool, "spec", "publishNotReadyAddresses") == true {
		t.Error("pool Service must be headless over ready nodes only")
	}
	var pp []string
	for _, p := range list(pool, "spec", "ports") {
		pp = append(pp, fmt.Sprintf("%s:%d->%s", str(p, "name"), num(p, "port"), str(p, "targetPort")))
	}
	if !slices.Equal(pp, []string{"http:8080->http", "admin:9091->admin"}) {
		t.Errorf("pool Service ports = %v, want http (metrics) and admin", pp)
	}
	client := r.must(t, "Service", fullname)
	if str(client, "spec", "type") != "LoadBalancer" {
		t.Errorf("client Service type = %q, want LoadBalancer", str(client, "spec", "type"))
	}
	if p := list(client, "spec", "ports"); len(p) != 1 || num(p[0], "port") != 80 || str(p[0], "targetPort") != "http" {
		t.Errorf("client Service ports = %v, want 80 -> http only", p)
	}
	if str(client, "spec", "sessionAffinity") != "None" {
		t.Error("client Service has session affinity by default")
	}
	for _, p := range list(node, "ports") {
		if str(p, "name") == "http" && num(p, "containerPort") != 8080 {
			t.Errorf("http container port = %d, want --listen's 8080", num(p, "containerPort"))
		}
	}

	// The operator.
	op := r.must(t, "Deployment", fullname+"-operator")
	oc := container(t, op, "operator")
	oa := args(oc)
	if len(oa) == 0 || oa[0] != "operator" {
		t.Fatalf("operator args = %v", oa)
	}
	wantFlag(t, oa, "leader-elect", "true")
	wantFlag(t, oa, "leader-election-id", fullname+"-operator")
	wantFlag(t, oa, "metrics-bind-address", ":8080")
	wantFlag(t, oa, "health-probe-bind-address", ":8081")
	wantFlag(t, oa, "watch-namespace", namespace)
	wantFlag(t, oa, "pool", fullname+"-pool."+namespace+".svc.cluster.local:9091")
	wantSecretEnv(t, oc, "ROOMRING_ADMIN_TOKEN", fullname, "admin-token")
	if str(oc, "readinessProbe", "httpGet", "port") != "health" || str(oc, "livenessProbe", "httpGet", "path") != "/healthz" {
		t.Error("operator probes are not on the health port")
	}
	metricsPort := false
	for _, p := range list(oc, "ports") {
		metricsPort = metricsPort || (str(p, "name") == "metrics" && num(p, "containerPort") == 8080)
	}
	if !metricsPort {
		t.Error("operator has no metrics port 8080")
	}

	// RBAC.
	opRole := r.must(t, "Role", fullname+"-operator")
	for _, w := range []struct{ group, resource, verb string }{
		{"roomring.dev", "rooms", "watch"}, {"roomring.dev", "rooms", "update"},
		{"roomring.dev", "rooms/status", "update"}, {"roomring.dev", "rooms/finalizers", "update"},
		{"", "events", "create"}, {"coordination.k8s.io", "leases", "update"},
	} {
		if !allows(opRole, w.group, w.resource, w.verb) {
			t.Errorf("operator Role does not allow %s %s.%s", w.verb, w.resource, w.group)
		}
	}
	for _, deny := range []struct{ group, resource, verb string }{
		{"", "services", "list"}, {"", "endpoints", "watch"}, {"discovery.k8s.io", "endpointslices", "list"},
		{"", "secrets", "get"}, {"roomring.dev", "rooms", "create"}, {"roomring.dev", "rooms", "patch"},
	} {
		if allows(opRole, deny.group, deny.resource, deny.verb) {
			t.Errorf("operator Role allows %s %s.%s", deny.verb, deny.resource, deny.group)
		}
	}
	nodeRole := r.must(t, "Role", fullname+"-node")
	for _, v := range []string{"get", "list", "create", "update", "delete"} {
		if !allows(nodeRole, "roomring.dev", "rooms", v) {
			t.Errorf("node Role does not allow %s rooms", v)
		}
	}
	for _, v := range []string{"watch", "patch"} {
		if allows(nodeRole, "roomring.dev", "rooms", v) {
			t.Errorf("node Role allows %s rooms, which nodes never do", v)
		}
	}
	if allows(nodeRole, "roomring.dev", "rooms/status", "update") || allows(nodeRole, "", "secrets", "get") {
		t.Error("node Role allows more than rooms")
	}
	for _, b := range []struct{ binding, sa string }{{fullname + "-node", fullname + "-node"}, {fullname + "-operator", fullname + "-operator"}} {
		rb := r.must(t, "RoleBinding", b.binding)
		if str(rb, "subjects", 0, "name") != b.sa || r.find("ServiceAccount", b.sa) == nil {
			t.Errorf("RoleBinding %s binds %q, want the rendered ServiceAccount %s", b.binding, str(rb, "subjects", 0, "name"), b.sa)
		}
	}

	// The CRD: kept on uninstall, identical to config/crd/bases.
	crd := r.must(t, "CustomResourceDefinition", "rooms.roomring.dev")
	if str(crd, "metadata", "annotations", "helm.sh/resource-policy") != "keep" {
		t.Error("CRD lacks helm.sh/resource-policy: keep")
	}
	base, err := os.ReadFile(filepath.Join(root, "config", "crd", "bases", "roomring.dev_rooms.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var gen obj
	if err := yaml.Unmarshal(base, &gen); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gen["spec"], crd["spec"]) {
		t.Error("the chart's CRD spec differs from config/crd/bases: run make chart-crds")
	}

	// The PDB lets one node go at a time.
	pdb := r.must(t, "PodDisruptionBudget", fullname)
	if num(pdb, "spec", "maxUnavailable") != 1 {
		t.Errorf("PDB maxUnavailable = %v", get(pdb, "spec", "maxUnavailable"))
	}
}

// TestRBACMatchesGenerated: for every value set, the chart's Roles grant
// exactly what config/rbac grants — the roles controller-gen generates from
// the +kubebuilder:rbac markers of node/kube and controllers/ (make
// manifests), which controllers/rbac_test.go proves sufficient against the
// API server's RBAC authorizer, and the leader election Role. A rule added
// to one and not the other fails here.
func TestRBACMatchesGenerated(t *testing.T) {
	gen := func(path string) map[string]bool {
		b, err := os.ReadFile(filepath.Join(root, "config", "rbac", path))
		if err != nil {
			t.Fatal(err)
		}
		var role obj
		if err := yaml.Unmarshal(bytes.TrimPrefix(b, []byte("---\n")), &role); err != nil {
			t.Fatalf("config/rbac/%s: %v", path, err)
		}
		return grants(t, role)
	}
	node, operator, election := gen("node/role.yaml"), gen("operator/role.yaml"), gen("leader_election_role.yaml")
	if len(node) == 0 || len(operator) == 0 || len(election) == 0 {
		t.Fatal("config/rbac has an empty role")
	}
	for _, f := range ciValues(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := render(t, "-f", f)
			roomNS := str(r.must(t, "Role", fullname+"-node"), "metadata", "namespace")
			want := map[string]map[string]bool{fullname + "-node": node}
			if roomNS == namespace {
				want[fullname+"-operator"] = union(operator, election)
			} else {
				want[fullname+"-operator"] = election
				want[fullname+"-operator-rooms"] = operator
			}
			roles := r.all("Role")
			if len(roles) != len(want) {
				t.Errorf("%d Roles rendered, want %d", len(roles), len(want))
			}
			for _, role := range roles {
				w, ok := want[role.name()]
				if !ok {
					t.Errorf("unexpected Role %s", role.name())
					continue
				}
				got := grants(t, role)
				for g := range got {
					if !w[g] {
						t.Errorf("Role %s grants %s, which config/rbac does not", role.name(), g)
					}
				}
				for g := range w {
					if !got[g] {
						t.Errorf("Role %s lacks %s, which config/rbac grants", role.name(), g)
					}
				}
			}
		})
	}
}

// grants expands a role's rules into "verb group/resource" entries; rules
// with resource names, non-resource URLs or wildcards are refused (the
// chart has none, and a comparison by expansion could not see through them).
func grants(t *testing.T, role obj) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, rule := range list(role, "rules") {
		if get(rule, "resourceNames") != nil || get(rule, "nonResourceURLs") != nil {
			t.Fatalf("%s: rule %v has resourceNames or nonResourceURLs", role.name(), rule)
		}
		for _, g := range list(rule, "apiGroups") {
			for _, res := range list(rule, "resources") {
				for _, v := range list(rule, "verbs") {
					if g == "*" || res == "*" || v == "*" {
						t.Fatalf("%s: wildcard in rule %v", role.name(), rule)
					}
					out[fmt.Sprintf("%s %s/%s", v, g, res)] = true
				}
			}
		}
	}
	return out
}

func union(a, b map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// allows reports whether role grants verb on group/resource.
func allows(role obj, group, resource, verb string) bool {
	for _, rule := range list(role, "rules") {
		if slices.Contains(list(rule, "apiGroups"), any(group)) &&
			slices.Contains(list(rule, "resources"), any(resource)) &&
			(slices.Contains(list(rule, "verbs"), any(verb)) || slices.Contains(list(rule, "verbs"), any("*"))) {
			return true
		}
	}
	return false
}

func secretData(t *testing.T, r rendered, name string) map[string]string {
	t.Helper()
	s := r.must(t, "Secret", name)
	out := map[string]string{}
	data, _ := asMap(get(s, "data"))
	for k, v := range data {
		b, err := base64.StdEncoding.DecodeString(v.(string))
		if err != nil {
			t.Fatalf("Secret %s key %s is not base64: %v", name, k, err)
		}
		out[k] = string(b)
	}
	return out
}

// TestSecretGenerated: with no values the three keys are generated (random,
// so two renderings differ); given values are used as they are.
func TestSecretGenerated(t *testing.T) {
	a := secretData(t, render(t), fullname)
	b := secretData(t, render(t), fullname)
	for _, k := range []string{"jwt-secret", "cluster-key", "admin-token"} {
		if len(a[k]) != 48 {
			t.Errorf("generated %s has %d characters, want 48", k, len(a[k]))
		}
		if a[k] == b[k] {
			t.Errorf("%s is the same in two renderings: not generated", k)
		}
	}
	if len(a) != 3 {
		t.Errorf("Secret keys = %v", a)
	}
	given := secretData(t, render(t, "-f", filepath.Join(chartDir, "ci", "cluster-postgres-values.yaml")), fullname)
	want := map[string]string{
		"jwt-secret":  "this-is-a-test-jwt-secret-0123456789",
		"cluster-key": "a-test-cluster-passphrase",
		"admin-token": "this-is-a-test-admin-token-0123456789",
	}
	if !reflect.DeepEqual(given, want) {
		t.Errorf("Secret with given values = %v, want %v", given, want)
	}
	// Upgrades keep what the install generated: the template reads the
	// existing Secret (lookup) before generating. helm template has no
	// cluster; the e2e test checks this against a real API server.
	src, err := os.ReadFile(filepath.Join(chartDir, "templates", "secret.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(src, []byte(`lookup "v1" "Secret" .Release.Namespace $name`)) {
		t.Error("secret.yaml no longer looks up the existing Secret")
	}
}

func TestExistingSecret(t *testing.T) {
	r := render(t, "-f", filepath.Join(chartDir, "ci", "existing-secret-values.yaml"))
	if s := r.all("Secret"); len(s) != 0 {
		t.Errorf("Secrets rendered with existingSecret: %v", s[0].name())
	}
	node := container(t, r.must(t, "StatefulSet", fullname), "node")
	wantSecretEnv(t, node, "ROOMRING_JWT_SECRET", "roomring-keys", "jwt")
	wantSecretEnv(t, node, "ROOMRING_CLUSTER_KEY", "roomring-keys", "cluster")
	wantSecretEnv(t, node, "ROOMRING_ADMIN_TOKEN", "roomring-keys", "admin")
	wantSecretEnv(t, container(t, r.must(t, "Deployment", fullname+"-operator"), "operator"), "ROOMRING_ADMIN_TOKEN", "roomring-keys", "admin")
}

func TestClusterWithPostgres(t *testing.T) {
	r := render(t, "-f", filepath.Join(chartDir, "ci", "cluster-postgres-values.yaml"))
	sts := r.must(t, "StatefulSet", fullname)
	if num(sts, "spec", "replicas") != 3 {
		t.Errorf("replicas = %d", num(sts, "spec", "replicas"))
	}
	node := container(t, sts, "node")
	wantSecretEnv(t, node, "ROOMRING_STORE", "roomring-db", "dsn")
	a := args(node)
	wantFlag(t, a, "public-url", "https://rooms.example.org")
	wantFlag(t, a, "jwt-issuer", "https://auth.example.org")
	wantFlag(t, a, "jwt-audience", "roomring")
	wantFlag(t, a, "rate-limit", "20")
	if get(sts, "spec", "template", "spec", "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution") == nil {
		t.Error("podAntiAffinityPreset=hard does not require spreading")
	}
	if num(r.must(t, "Deployment", fullname+"-operator"), "spec", "replicas") != 2 {
		t.Error("operator replicas not 2")
	}
	r.must(t, "PodDisruptionBudget", fullname+"-operator")
}

// TestReplicasNeedStore: several nodes without PostgreSQL are refused unless
// explicitly allowed, and NOTES warn when they are.
func TestReplicasNeedStore(t *testing.T) {
	_, err := template(t, "--set", "node.replicas=3")
	if err == nil || !strings.Contains(err.Error(), "dsnSecret") {
		t.Errorf("3 replicas without a store: err = %v, want a refusal naming store.dsnSecret", err)
	}
	_, err = template(t, "--set", "node.replicas=3", "--skip-schema-validation")
	if err == nil || !strings.Contains(err.Error(), "needs a PostgreSQL store") {
		t.Errorf("3 replicas without a store, schema skipped: err = %v, want the template's refusal", err)
	}
	r := render(t, "--set", "node.replicas=3", "--set", "store.allowNodeLocalStore=true")
	if num(r.must(t, "StatefulSet", fullname), "spec", "replicas") != 3 {
		t.Error("allowNodeLocalStore did not allow 3 replicas")
	}
	warned := notes(t, "--set", "node.replicas=3", "--set", "store.allowNodeLocalStore=true")
	if !strings.Contains(warned, "WARNING: 3 nodes without a PostgreSQL store") {
		t.Errorf("NOTES do not warn about 3 nodes without a store:\n%s", warned)
	}
	if strings.Contains(notes(t), "WARNING") {
		t.Error("NOTES warn with the defaults")
	}
}

// notes renders NOTES.txt. helm prints NOTES only from install, which needs a
// cluster even with --dry-run=client, so this renders a copy of the chart in
// which NOTES.txt is also a chart file that a ConfigMap template passes
// through tpl with the release's context: the same text helm install prints.
func notes(t *testing.T, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "roomring")
	if err := os.CopyFS(dir, os.DirFS(chartDir)); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(chartDir, "templates", "NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes-under-test.txt"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	wrapper := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-under-test\ndata:\n  notes: {{ tpl (.Files.Get \"notes-under-test.txt\") . | toJson }}\n"
	if err := os.WriteFile(filepath.Join(dir, "templates", "zz-notes-under-test.yaml"), []byte(wrapper), 0o644); err != nil {
		t.Fatal(err)
	}
	full := append([]string{"template", release, dir, "--namespace", namespace, "--show-only", "templates/zz-notes-under-test.yaml"}, args...)
	out, err := exec.Command(helmBin(t), full...).CombinedOutput()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, out)
	}
	var cm obj
	if err := yaml.Unmarshal(out, &cm); err != nil {
		t.Fatalf("rendered NOTES: %v\n%s", err, out)
	}
	n := str(cm, "data", "notes")
	if n == "" {
		t.Fatalf("empty NOTES:\n%s", out)
	}
	return n
}

func TestNotes(t *testing.T) {
	n := notes(t)
	for _, want := range []string{
		"kind: Room", "apiVersion: roomring.dev/v1alpha1", "namespace: " + namespace,
		"ws://$ADDR/ws/world/default/", "/socket/",
		"kubectl -n " + namespace + " get svc " + fullname, ".status.loadBalancer.ingress[0].ip",
		"kubectl -n " + namespace + " get secret " + fullname + " -o jsonpath='{.data.jwt-secret}'",
	} {
		if !strings.Contains(n, want) {
			t.Errorf("NOTES lack %q:\n%s", want, n)
		}
	}
	// The sample Room in NOTES is valid YAML of a Room.
	_, after, _ := strings.Cut(n, "<<'EOF' | kubectl apply -f -\n")
	manifest, _, ok := strings.Cut(after, "  EOF\n")
	if !ok {
		t.Fatalf("no sample manifest in NOTES:\n%s", n)
	}
	var room obj
	if err := yaml.Unmarshal([]byte(unindent(manifest)), &room); err != nil {
		t.Fatalf("sample Room: %v\n%s", err, manifest)
	}
	if room.kind() != "Room" || str(room, "spec", "displayName") == "" {
		t.Errorf("sample Room = %v", room)
	}
	ip := notes(t, "-f", filepath.Join(chartDir, "ci", "clusterip-values.yaml"))
	if !strings.Contains(ip, "port-forward svc/"+fullname+" 8080:8080") || !strings.Contains(ip, "namespace: event-rooms") {
		t.Errorf("ClusterIP NOTES:\n%s", ip)
	}
}

func unindent(s string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(s, "\n") {
		b.WriteString(strings.TrimPrefix(line, "  "))
		b.WriteByte('\n')
	}
	return b.String()
}

func TestNoCRDs(t *testing.T) {
	r := render(t, "-f", filepath.Join(chartDir, "ci", "no-crds-values.yaml"))
	if c := r.all("CustomResourceDefinition"); len(c) != 0 {
		t.Error("CRD rendered with crds.install=false")
	}
}

func TestMonitoringAndNetworkPolicy(t *testing.T) {
	r := render(t, "-f", filepath.Join(chartDir, "ci", "monitoring-values.yaml"))
	sms := r.all("ServiceMonitor")
	if len(sms) != 2 {
		t.Fatalf("ServiceMonitors = %d, want 2 (nodes, operator)", len(sms))
	}
	for _, sm := range sms {
		if str(sm, "metadata", "labels", "release") != "prometheus" {
			t.Errorf("ServiceMonitor %s lacks the configured labels", sm.name())
		}
		sel, _ := asMap(get(sm, "spec", "selector", "matchLabels"))
		port := str(sm, "spec", "endpoints", 0, "port")
		var hit []string
		for _, s := range r.all("Service") {
			labels, _ := asMap(get(s, "metadata", "labels"))
			ok := true
			for k, v := range sel {
				ok = ok && labels[k] == v
			}
			if ok {
				hit = append(hit, s.name())
				named := false
				for _, p := range list(s, "spec", "ports") {
					named = named || str(p, "name") == port
				}
				if !named {
					t.Errorf("ServiceMonitor %s scrapes port %q, which Service %s lacks", sm.name(), port, s.name())
				}
			}
		}
		if len(hit) != 1 {
			t.Errorf("ServiceMonitor %s selects Services %v, want exactly one", sm.name(), hit)
		}
	}
	np := r.must(t, "NetworkPolicy", fullname+"-node")
	adminRules := 0
	for _, rule := range list(np, "spec", "ingress") {
		var ports []string
		for _, p := range list(rule, "ports") {
			ports = append(ports, str(p, "port"))
		}
		from := list(rule, "from")
		if len(from) == 0 {
			t.Errorf("a node ingress rule allows ports %v from anywhere despite clientFrom", ports)
		}
		if slices.Contains(ports, "gossip-udp") || slices.Contains(ports, "peer") {
			if len(from) != 1 || str(from[0], "podSelector", "matchLabels", "app.kubernetes.io/component") != "node" {
				t.Errorf("gossip and peer ports open to %v, want node pods only", from)
			}
		}
		if slices.Contains(ports, "admin") {
			adminRules++
			if len(ports) != 1 || len(from) != 1 || str(from[0], "podSelector", "matchLabels", "app.kubernetes.io/component") != "operator" {
				t.Errorf("admin port in a rule for ports %v from %v, want a rule of its own from the operator's pods only", ports, from)
			}
		}
	}
	if adminRules != 1 {
		t.Errorf("%d node ingress rules admit the admin port, want 1 (the operator's)", adminRules)
	}
	opnp := r.must(t, "NetworkPolicy", fullname+"-operator")
	if str(opnp, "spec", "ingress", 0, "from", 0, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name") != "monitoring" {
		t.Errorf("operator NetworkPolicy ignores metricsFrom: %v", get(opnp, "spec"))
	}
}

func TestClusterIPAndRoomNamespace(t *testing.T) {
	r := render(t, "-f", filepath.Join(chartDir, "ci", "clusterip-values.yaml"))
	c := r.must(t, "Service", fullname)
	if str(c, "spec", "type") != "ClusterIP" {
		t.Errorf("client Service type = %q", str(c, "spec", "type"))
	}
	if p := get(c, "spec", "ports", 0); num(p, "port") != 8080 || get(p, "nodePort") != nil {
		t.Errorf("client Service port = %v", p)
	}
	a := args(container(t, r.must(t, "StatefulSet", fullname), "node"))
	wantFlag(t, a, "kube-namespace", "event-rooms")
	wantFlag(t, a, "world-title", "Spring Summit: day #1")
	if _, ok := flag(a, "allow-guests"); !ok {
		t.Error("allowGuests does not pass --allow-guests")
	}
	wantFlag(t, args(container(t, r.must(t, "Deployment", fullname+"-operator"), "operator")), "watch-namespace", "event-rooms")
	// Rooms live in event-rooms: both Roles on rooms are there; the
	// operator's leases stay in the release namespace.
	if ns := str(r.must(t, "Role", fullname+"-node"), "metadata", "namespace"); ns != "event-rooms" {
		t.Errorf("node Role in %q", ns)
	}
	rooms := r.must(t, "Role", fullname+"-operator-rooms")
	if str(rooms, "metadata", "namespace") != "event-rooms" || !allows(rooms, "roomring.dev", "rooms/status", "update") {
		t.Errorf("operator rooms Role = %v", rooms)
	}
	own := r.must(t, "Role", fullname+"-operator")
	if allows(own, "roomring.dev", "rooms", "get") || !allows(own, "coordination.k8s.io", "leases", "create") {
		t.Error("operator's own Role should hold leases and not rooms when Rooms live elsewhere")
	}
}

func TestInvalidValues(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown key", []string{"--set", "node.replicaCount=2"}, "replicaCount"},
		{"short JWT secret", []string{"--set", "secrets.jwtSecret=short"}, "jwtSecret"},
		{"bad service type", []string{"--set", "service.type=Ingress"}, "service/type"},
		{"bad port", []string{"--set", "node.ports.http=70000"}, "ports/http"},
		{"grace too short", []string{"--set", "node.terminationGracePeriodSeconds=10"}, "terminationGracePeriodSeconds"},
		{"same ports", []string{"--set", "node.ports.peer=7946"}, "must differ"},
		{"admin port is the HTTP port", []string{"--set", "node.ports.admin=8080"}, "must differ"},
		{"bad preset", []string{"--set", "node.podAntiAffinityPreset=always"}, "podAntiAffinityPreset"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := template(t, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want a refusal mentioning %q", err, c.want)
			}
		})
	}
}

func TestImage(t *testing.T) {
	chart, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(chart, &meta); err != nil || meta.AppVersion == "" {
		t.Fatalf("Chart.yaml appVersion: %v", err)
	}
	image := func(args ...string) string {
		return str(container(t, render(t, args...).must(t, "StatefulSet", fullname), "node"), "image")
	}
	if got := image(); got != "ghcr.io/roomring/roomring:"+meta.AppVersion {
		t.Errorf("default image = %q, want the appVersion tag", got)
	}
	if got := image("--set", "image.tag=v9"); got != "ghcr.io/roomring/roomring:v9" {
		t.Errorf("image with tag = %q", got)
	}
	d := "sha256:" + strings.Repeat("ab", 32)
	if got := image("--set", "image.digest="+d); got != "ghcr.io/roomring/roomring@"+d {
		t.Errorf("image with digest = %q", got)
	}
}

// TestReadmeListsEveryValue: the chart README's table has a row for every
// value of values.yaml (a map may be one row, e.g. node.resources), and no
// row for a value that does not exist.
func TestReadmeListsEveryValue(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(chartDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for line := range strings.SplitSeq(string(readme), "\n") {
		if rest, ok := strings.CutPrefix(line, "| `"); ok {
			if path, _, ok := strings.Cut(rest, "` |"); ok && !strings.ContainsAny(path, " <") {
				rows[path] = true
			}
		}
	}
	raw, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values map[string]any
	if err := yaml.Unmarshal(raw, &values); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			path := prefix + k
			seen[path] = true
			sub, isMap := v.(map[string]any)
			switch {
			case rows[path]:
			case isMap && len(sub) > 0:
				walk(path+".", sub)
			default:
				t.Errorf("values.yaml has %s, the README's table does not", path)
			}
		}
	}
	walk("", values)
	for r := range rows {
		if !seen[r] {
			t.Errorf("the README lists %s, which values.yaml does not have", r)
		}
	}
	if len(rows) < 50 {
		t.Errorf("only %d value rows found in the README", len(rows))
	}
}

// TestArgsAreRealFlags parses the args the chart gives the node and the
// operator with the flag sets of the code they run, and validates the node's
// configuration as `roomring node` does, with the chart's environment: a
// renamed or removed flag fails here, not in a crash-looping pod.
func TestArgsAreRealFlags(t *testing.T) {
	t.Setenv("ROOMRING_JWT_SECRET", strings.Repeat("j", 48))
	t.Setenv("ROOMRING_CLUSTER_KEY", strings.Repeat("c", 48))
	t.Setenv("ROOMRING_ADMIN_TOKEN", strings.Repeat("a", 48))
	t.Setenv("KUBECONFIG", "")
	for _, f := range ciValues(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := render(t, "-f", f)
			sts := r.must(t, "StatefulSet", fullname)
			node := container(t, sts, "node")
			if e := env(node, "ROOMRING_STORE"); e != nil {
				t.Setenv("ROOMRING_STORE", "postgres://roomring:pw@db.example.org:5432/roomring")
			} else {
				t.Setenv("ROOMRING_STORE", "")
			}
			a := expandEnv(args(node), map[string]string{"POD_IP": "10.1.2.3", "POD_NAME": fullname + "-0", "POD_NAMESPACE": namespace})
			fs := goflag.NewFlagSet("node", goflag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var cfg roomnode.Config
			cfg.RegisterFlags(fs)
			fs.Duration("shutdown-timeout", 0, "registered by cmd.runNode")
			if err := fs.Parse(a[1:]); err != nil {
				t.Fatalf("roomring node %v: %v", a[1:], err)
			}
			if fs.NArg() != 0 {
				t.Errorf("node args left unparsed: %v", fs.Args())
			}
			cfg.Complete()
			if err := cfg.Validate(); err != nil {
				t.Errorf("roomring node with the chart's args and environment: %v", err)
			}
			for _, w := range cfg.Warnings() {
				t.Errorf("roomring node with the chart's args warns: %s %v", w.Msg, w.Args)
			}
			if !cfg.Cluster.Enabled() || cfg.Cluster.Key == "" || cfg.Admin.Token == "" {
				t.Errorf("the node is not a keyed cluster member with the admin API on: cluster %v, key set %v, admin token set %v",
					cfg.Cluster.Enabled(), cfg.Cluster.Key != "", cfg.Admin.Token != "")
			}

			op := container(t, r.must(t, "Deployment", fullname+"-operator"), "operator")
			oa := args(op)
			ofs := goflag.NewFlagSet("operator", goflag.ContinueOnError)
			ofs.SetOutput(io.Discard)
			var mc controllers.ManagerConfig
			mc.RegisterFlags(ofs)
			var pool poolclient.Config
			pool.RegisterFlags(ofs)
			if err := ofs.Parse(oa[1:]); err != nil {
				t.Fatalf("roomring operator %v: %v", oa[1:], err)
			}
			pool.Complete()
			if err := errors.Join(mc.Validate(), pool.Validate()); err != nil {
				t.Errorf("the operator's configuration: %v", err)
			}
			if pool.Token == "" || len(pool.Pool) != 1 || !mc.LeaderElect {
				t.Errorf("operator: pool %v, token set %v, leader election %v", pool.Pool, pool.Token != "", mc.LeaderElect)
			}
		})
	}
}

// expandEnv replaces $(VAR) as the kubelet does in container args.
func expandEnv(args []string, vars map[string]string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		for k, v := range vars {
			a = strings.ReplaceAll(a, "$("+k+")", v)
		}
		out[i] = a
	}
	return out
}
