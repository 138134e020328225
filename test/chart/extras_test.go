package chart

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestAggregatedClusterRoles: Rooms and Worlds join the built-in view, edit and admin
// ClusterRoles through two aggregated ClusterRoles (rbac.aggregate, on by
// default) that bind no one (the chart's only ClusterRoleBinding is the
// operator's report of unwatched Rooms: rbac_test.go).
func TestAggregatedClusterRoles(t *testing.T) {
	r := render(t)
	viewer := r.must(t, "ClusterRole", fullname+"-room-viewer")
	editor := r.must(t, "ClusterRole", fullname+"-room-editor")
	read, write := map[string]bool{}, map[string]bool{}
	for _, res := range []string{"roomring.dev/rooms", "roomring.dev/worlds"} {
		for _, v := range []string{"get", "list", "watch"} {
			read[v+" "+res], write[v+" "+res] = true, true
		}
		for _, v := range []string{"create", "update", "patch", "delete"} {
			write[v+" "+res] = true
		}
	}
	if got := grants(t, viewer); !reflect.DeepEqual(got, read) {
		t.Errorf("room-viewer grants %v, want %v", got, read)
	}
	if got := grants(t, editor); !reflect.DeepEqual(got, write) {
		t.Errorf("room-editor grants %v, want %v", got, write)
	}
	for role, aggs := range map[string][]string{
		viewer.name(): {"view"},
		editor.name(): {"edit", "admin"},
	} {
		o := r.must(t, "ClusterRole", role)
		for _, a := range []string{"view", "edit", "admin"} {
			got := str(o, "metadata", "labels", "rbac.authorization.k8s.io/aggregate-to-"+a) == "true"
			if want := slices.Contains(aggs, a); got != want {
				t.Errorf("%s aggregate-to-%s = %v, want %v", role, a, got, want)
			}
		}
	}
	if off := render(t, "--set", "rbac.aggregate=false"); off.find("ClusterRole", viewer.name()) != nil || off.find("ClusterRole", editor.name()) != nil {
		t.Error("aggregated ClusterRoles rendered with rbac.aggregate=false")
	}
}

// TestPodExtras: extra volumes and mounts, init containers, sidecars and
// envFrom reach the node and operator pods as given, after the chart's own.
// The value set's sidecars are not hardened like the chart's containers, so
// it is rendered without checkInvariants.
func TestPodExtras(t *testing.T) {
	r, err := template(t, "-f", filepath.Join(root, "test", "chart", "testdata", "extras-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		w                                 obj
		main, init, sidecar, volume, path string
		envFrom                           string
	}{
		{r.must(t, "StatefulSet", fullname), "node", "wait-db", "log-shipper", "certs", "/etc/roomring/certs", "node-env"},
		{r.must(t, "Deployment", fullname+"-operator"), "operator", "init-op", "proxy", "ca", "/etc/ssl/extra", "operator-env"},
	} {
		pod := get(c.w, "spec", "template", "spec")
		names := func(key string) []string {
			var out []string
			for _, x := range list(pod, key) {
				out = append(out, str(x, "name"))
			}
			return out
		}
		if got := names("initContainers"); !slices.Equal(got, []string{c.init}) {
			t.Errorf("%s initContainers %v", c.main, got)
		}
		if got := names("containers"); !slices.Equal(got, []string{c.main, c.sidecar}) {
			t.Errorf("%s containers %v, want the chart's first, then the sidecar", c.main, got)
		}
		if got := names("volumes"); !slices.Contains(got, c.volume) || !slices.Contains(got, "tmp") {
			t.Errorf("%s volumes %v", c.main, got)
		}
		ctr := container(t, c.w, c.main)
		mounted := false
		for _, m := range list(ctr, "volumeMounts") {
			mounted = mounted || (str(m, "name") == c.volume && str(m, "mountPath") == c.path)
		}
		if !mounted {
			t.Errorf("%s: %s not mounted at %s: %v", c.main, c.volume, c.path, list(ctr, "volumeMounts"))
		}
		ef := list(ctr, "envFrom")
		if len(ef) != 1 || !strings.Contains(strings.Join([]string{str(ef[0], "configMapRef", "name"), str(ef[0], "secretRef", "name")}, ""), c.envFrom) {
			t.Errorf("%s envFrom %v, want %s", c.main, ef, c.envFrom)
		}
		if env(ctr, "POD_NAMESPACE") == nil {
			t.Errorf("%s lost its own env", c.main)
		}
	}
	// Defaults: none of it.
	d := render(t)
	for _, w := range []obj{d.must(t, "StatefulSet", fullname), d.must(t, "Deployment", fullname+"-operator")} {
		pod := get(w, "spec", "template", "spec")
		if get(pod, "initContainers") != nil || len(list(pod, "containers")) != 1 || get(pod, "containers", 0, "envFrom") != nil {
			t.Errorf("%s: extras rendered by default", w.name())
		}
	}
}

// TestOperatorSpreading: the operator Deployment spreads like the nodes —
// podAntiAffinityPreset (soft by default) unless affinity is given, and
// topologySpreadConstraints as given.
func TestOperatorSpreading(t *testing.T) {
	op := func(args ...string) any {
		r, err := template(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		return get(r.must(t, "Deployment", fullname+"-operator"), "spec", "template", "spec")
	}
	soft := op()
	term := get(soft, "affinity", "podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution", 0, "podAffinityTerm")
	if str(term, "topologyKey") != "kubernetes.io/hostname" ||
		str(term, "labelSelector", "matchLabels", "app.kubernetes.io/component") != "operator" {
		t.Errorf("default operator affinity = %v, want soft anti-affinity among operator pods", get(soft, "affinity"))
	}
	hard := op("--set", "operator.podAntiAffinityPreset=hard")
	if get(hard, "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution") == nil {
		t.Error("podAntiAffinityPreset=hard does not require spreading")
	}
	if none := op("--set", "operator.podAntiAffinityPreset=none"); get(none, "affinity") != nil {
		t.Errorf("podAntiAffinityPreset=none renders affinity %v", get(none, "affinity"))
	}
	own := op("--set", "operator.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=pool",
		"--set", "operator.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator=Exists")
	if get(own, "affinity", "podAntiAffinity") != nil || get(own, "affinity", "nodeAffinity") == nil {
		t.Errorf("operator.affinity does not replace the preset: %v", get(own, "affinity"))
	}
	spread := op("-f", filepath.Join(root, "test", "chart", "testdata", "extras-values.yaml"))
	if str(spread, "topologySpreadConstraints", 0, "topologyKey") != "topology.kubernetes.io/zone" {
		t.Errorf("topologySpreadConstraints = %v", get(spread, "topologySpreadConstraints"))
	}
	if _, err := template(t, "--set", "operator.podAntiAffinityPreset=always"); err == nil || !strings.Contains(err.Error(), "podAntiAffinityPreset") {
		t.Errorf("bad operator preset accepted: %v", err)
	}
}

// TestHelmTestHook: `helm test` runs a restricted Pod that fetches /healthz
// through the client Service; tests.enabled=false renders none.
func TestHelmTestHook(t *testing.T) {
	r := render(t)
	pod := r.must(t, "Pod", fullname+"-test-healthz")
	if h := str(pod, "metadata", "annotations", "helm.sh/hook"); h != "test" {
		t.Errorf("helm.sh/hook %q, want test", h)
	}
	if str(pod, "spec", "restartPolicy") != "Never" {
		t.Error("test Pod restarts")
	}
	c := get(pod, "spec", "containers", 0)
	if str(c, "image") != "docker.io/library/busybox:1.37.0" {
		t.Errorf("test image %q", str(c, "image"))
	}
	var cmd []string
	for _, a := range list(c, "command") {
		cmd = append(cmd, a.(string))
	}
	url := "http://" + fullname + "." + namespace + ".svc.cluster.local:80/healthz"
	if len(cmd) == 0 || cmd[0] != "wget" || cmd[len(cmd)-1] != url {
		t.Errorf("test command %q, want wget of %s", cmd, url)
	}
	if get(pod, "spec", "securityContext", "runAsNonRoot") != true ||
		str(pod, "spec", "securityContext", "seccompProfile", "type") != "RuntimeDefault" ||
		get(c, "securityContext", "allowPrivilegeEscalation") != false ||
		!slices.Equal(list(c, "securityContext", "capabilities", "drop"), []any{"ALL"}) {
		t.Error("test Pod is not restricted")
	}
	if str(pod, "metadata", "labels", "app.kubernetes.io/component") != "test" {
		t.Error("test Pod would be selected as a node or operator pod")
	}
	other := render(t, "--set", "service.port=8080", "--set", "tests.image=registry.example.org/wget:1")
	c = get(other.must(t, "Pod", fullname+"-test-healthz"), "spec", "containers", 0)
	if l := list(c, "command"); str(c, "image") != "registry.example.org/wget:1" || !strings.HasSuffix(l[len(l)-1].(string), ":8080/healthz") {
		t.Errorf("tests.image / service.port not followed: %v", c)
	}
	// A restricted client ingress still admits the test Pod.
	np := render(t, "--set", "networkPolicy.clientFrom[0].namespaceSelector.matchLabels.team=web").must(t, "NetworkPolicy", fullname+"-node")
	admitted := false
	for _, rule := range list(np, "spec", "ingress") {
		for _, from := range list(rule, "from") {
			admitted = admitted || str(from, "podSelector", "matchLabels", "app.kubernetes.io/component") == "test"
		}
	}
	if !admitted {
		t.Error("networkPolicy.clientFrom shuts out the helm test Pod")
	}
	if off := render(t, "--set", "tests.enabled=false"); len(off.all("Pod")) != 0 {
		t.Error("test Pod rendered with tests.enabled=false")
	}
}

// TestAutoscaling: the HPA is off by default; on, it targets the node
// StatefulSet, which then leaves replicas to it, and it needs a shared
// store like node.replicas > 1 does.
func TestAutoscaling(t *testing.T) {
	d := render(t)
	if len(d.all("HorizontalPodAutoscaler")) != 0 {
		t.Error("HPA rendered by default")
	}
	if num(d.must(t, "StatefulSet", fullname), "spec", "replicas") != 1 {
		t.Error("StatefulSet replicas unset by default")
	}
	r := render(t, "--set", "autoscaling.enabled=true", "--set", "store.dsnSecret.name=db")
	hpa := r.must(t, "HorizontalPodAutoscaler", fullname)
	if str(hpa, "spec", "scaleTargetRef", "kind") != "StatefulSet" || str(hpa, "spec", "scaleTargetRef", "name") != fullname {
		t.Errorf("HPA target %v", get(hpa, "spec", "scaleTargetRef"))
	}
	if num(hpa, "spec", "minReplicas") != 3 || num(hpa, "spec", "maxReplicas") != 6 ||
		num(hpa, "spec", "metrics", 0, "resource", "target", "averageUtilization") != 70 {
		t.Errorf("HPA spec %v", get(hpa, "spec"))
	}
	if num(hpa, "spec", "behavior", "scaleDown", "policies", 0, "value") != 1 {
		t.Error("HPA scales down more than one node at a time")
	}
	if get(r.must(t, "StatefulSet", fullname), "spec", "replicas") != nil {
		t.Error("StatefulSet sets replicas under an HPA")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--set", "autoscaling.enabled=true"}, "PostgreSQL"},
		{[]string{"--set", "autoscaling.enabled=true", "--set", "store.dsnSecret.name=db", "--set", "autoscaling.minReplicas=7"}, "minReplicas"},
		{[]string{"--set", "autoscaling.targetCPUUtilizationPercentage=0"}, "targetCPUUtilizationPercentage"},
	} {
		if _, err := template(t, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want a refusal mentioning %q", c.args, err, c.want)
		}
	}
}
