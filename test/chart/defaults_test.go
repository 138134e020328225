package chart

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestDefaults checks what the chart renders with no values: the objects,
// then each of them in a subtest.
func TestDefaults(t *testing.T) {
	r := render(t)
	t.Run("objects", func(t *testing.T) { checkDefaultObjects(t, r) })
	t.Run("node args", func(t *testing.T) { checkDefaultNodeArgs(t, r) })
	t.Run("node pod", func(t *testing.T) { checkDefaultNodePod(t, r) })
	t.Run("services", func(t *testing.T) { checkDefaultServices(t, r) })
	t.Run("operator", func(t *testing.T) { checkDefaultOperator(t, r) })
	t.Run("rbac", func(t *testing.T) { checkDefaultRBAC(t, r) })
	t.Run("crd", func(t *testing.T) { checkDefaultCRD(t, r) })
	t.Run("pdb", func(t *testing.T) { checkDefaultPDB(t, r) })
}

// checkDefaultObjects: exactly these objects are rendered.
func checkDefaultObjects(t *testing.T, r rendered) {
	t.Helper()
	want := []string{
		"StatefulSet/" + fullname, "Deployment/" + fullname + "-operator",
		"Service/" + fullname, "Service/" + fullname + "-gossip", "Service/" + fullname + "-pool",
		"Service/" + fullname + "-operator-metrics",
		"Secret/" + fullname, "CustomResourceDefinition/rooms.roomring.dev", "CustomResourceDefinition/worlds.roomring.dev",
		"ServiceAccount/" + fullname + "-node", "ServiceAccount/" + fullname + "-operator",
		"Role/" + fullname + "-node", "RoleBinding/" + fullname + "-node",
		"Role/" + fullname + "-operator", "RoleBinding/" + fullname + "-operator",
		"PodDisruptionBudget/" + fullname,
		"NetworkPolicy/" + fullname + "-node", "NetworkPolicy/" + fullname + "-operator",
		// the post-delete hook (teardown.yaml)
		"Job/" + fullname + "-teardown", "ServiceAccount/" + fullname + "-teardown",
		"Role/" + fullname + "-teardown", "RoleBinding/" + fullname + "-teardown",
		// Rooms in the built-in view/edit/admin roles (rbac-aggregate.yaml)
		"ClusterRole/" + fullname + "-room-viewer", "ClusterRole/" + fullname + "-room-editor",
		// the report of Rooms no operator serves (operator.reportUnwatchedRooms)
		"ClusterRole/" + unwatchedRole, "ClusterRoleBinding/" + unwatchedRole,
		// the helm test hook (tests/healthz-test.yaml)
		"Pod/" + fullname + "-test-healthz",
	}
	got := r.names()
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("rendered objects:\n got %v\nwant %v", got, want)
	}
}

// checkDefaultNodeArgs: the node StatefulSet, its args and environment.
func checkDefaultNodeArgs(t *testing.T, r rendered) {
	t.Helper()
	sts := r.must(t, "StatefulSet", fullname)
	if str(sts, "spec", "serviceName") != fullname+"-gossip" {
		t.Errorf("serviceName = %q, want the headless gossip Service", str(sts, "spec", "serviceName"))
	}
	if num(sts, "spec", "replicas") != 1 {
		t.Errorf("replicas = %d, want 1", num(sts, "spec", "replicas"))
	}
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
}

// checkDefaultNodePod: the node pod's probes, shutdown, data directory,
// spreading and service account.
func checkDefaultNodePod(t *testing.T, r rendered) {
	t.Helper()
	sts := r.must(t, "StatefulSet", fullname)
	pod := get(sts, "spec", "template", "spec")
	node := container(t, sts, "node")
	a := args(node)
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
}

// checkDefaultServices: headless gossip (not-ready pods published), headless
// pool, LoadBalancer client on 80.
func checkDefaultServices(t *testing.T, r rendered) {
	t.Helper()
	node := container(t, r.must(t, "StatefulSet", fullname), "node")
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
}

// checkDefaultOperator: the operator Deployment's args, Secret and ports.
func checkDefaultOperator(t *testing.T, r rendered) {
	t.Helper()
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
}

// checkDefaultRBAC: what the operator's and the node's Roles allow and deny,
// and their bindings.
func checkDefaultRBAC(t *testing.T, r rendered) {
	t.Helper()
	opRole := r.must(t, "Role", fullname+"-operator")
	for _, w := range []struct{ group, resource, verb string }{
		{"roomring.dev", "rooms", "watch"}, {"roomring.dev", "rooms", "patch"},
		{"roomring.dev", "rooms/status", "update"}, {"roomring.dev", "rooms/finalizers", "update"},
		{"", "events", "create"}, {"coordination.k8s.io", "leases", "update"},
		{"roomring.dev", "worlds", "watch"}, {"roomring.dev", "worlds", "patch"},
		{"roomring.dev", "worlds/status", "update"}, {"roomring.dev", "worlds/finalizers", "update"},
		// the JWT keys of the Worlds (spec.jwt.secrets)
		{"", "secrets", "get"}, {"", "secrets", "watch"},
	} {
		if !allows(opRole, w.group, w.resource, w.verb) {
			t.Errorf("operator Role does not allow %s %s.%s", w.verb, w.resource, w.group)
		}
	}
	for _, deny := range []struct{ group, resource, verb string }{
		{"", "services", "list"}, {"", "endpoints", "watch"}, {"discovery.k8s.io", "endpointslices", "list"},
		{"", "secrets", "update"}, {"", "secrets", "create"}, {"roomring.dev", "rooms", "create"}, {"roomring.dev", "rooms", "update"},
		{"roomring.dev", "worlds", "update"}, {"roomring.dev", "worlds", "create"},
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
}

// checkDefaultCRD: the CRD is kept on uninstall, identical to
// config/crd/bases.
func checkDefaultCRD(t *testing.T, r rendered) {
	t.Helper()
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
}

// checkDefaultPDB: the PDB lets one node go at a time.
func checkDefaultPDB(t *testing.T, r rendered) {
	t.Helper()
	pdb := r.must(t, "PodDisruptionBudget", fullname)
	if num(pdb, "spec", "maxUnavailable") != 1 {
		t.Errorf("PDB maxUnavailable = %v", get(pdb, "spec", "maxUnavailable"))
	}
}
