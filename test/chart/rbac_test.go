package chart

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestRBACMatchesGenerated: for every value set, the chart's Roles grant
// exactly what config/rbac grants — the roles controller-gen generates from
// the +kubebuilder:rbac markers of node/kube and controllers/ (make
// manifests), which controllers/rbac_test.go proves sufficient against the
// API server's RBAC authorizer, and the leader election Role. A rule added
// to one and not the other fails here.
func TestRBACMatchesGenerated(t *testing.T) {
	gen := func(path string) map[string]bool { return generatedGrants(t, path) }
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
			roles := workloadRoles(r) // the teardown hook's Role: lifecycle_test.go
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

// generatedGrants reads the grants of a role of config/rbac.
func generatedGrants(t *testing.T, path string) map[string]bool {
	t.Helper()
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

// unwatchedRole names the ClusterRole and ClusterRoleBinding of the
// operator's report of Rooms no operator serves: cluster-wide names, so
// they carry the release namespace.
const unwatchedRole = namespace + "-" + fullname + "-operator-unwatched-rooms"

// TestUnwatchedRoomsClusterRole: operator.reportUnwatchedRooms (on by
// default) grants the operator exactly config/rbac/unwatched_rooms_role.yaml
// cluster-wide — the chart's only ClusterRoleBinding — and passes
// --report-unwatched-rooms; off, neither is rendered.
func TestUnwatchedRoomsClusterRole(t *testing.T) {
	want := generatedGrants(t, "unwatched_rooms_role.yaml")
	r := render(t)
	if got := grants(t, r.must(t, "ClusterRole", unwatchedRole)); !reflect.DeepEqual(got, want) {
		t.Errorf("ClusterRole %s grants %v, want config/rbac's %v", unwatchedRole, got, want)
	}
	b := r.must(t, "ClusterRoleBinding", unwatchedRole)
	subjects := list(b, "subjects")
	if str(b, "roleRef", "name") != unwatchedRole || len(subjects) != 1 ||
		str(subjects[0], "name") != fullname+"-operator" || str(subjects[0], "namespace") != namespace {
		t.Errorf("ClusterRoleBinding %s: roleRef %v, subjects %v", unwatchedRole, get(b, "roleRef"), subjects)
	}
	if n := len(r.all("ClusterRoleBinding")); n != 1 {
		t.Errorf("%d ClusterRoleBindings rendered, want the report's only", n)
	}
	op := func(r rendered) []string {
		return args(container(t, r.must(t, "Deployment", fullname+"-operator"), "operator"))
	}
	if !slices.Contains(op(r), "--report-unwatched-rooms=true") {
		t.Errorf("operator args %v lack --report-unwatched-rooms=true", op(r))
	}
	off := render(t, "--set", "operator.reportUnwatchedRooms=false")
	if off.find("ClusterRole", unwatchedRole) != nil || len(off.all("ClusterRoleBinding")) != 0 ||
		!slices.Contains(op(off), "--report-unwatched-rooms=false") {
		t.Errorf("reportUnwatchedRooms=false still renders the report: ClusterRoleBindings %d, args %v", len(off.all("ClusterRoleBinding")), op(off))
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

// workloadRoles are the Roles of the nodes and the operator: every rendered
// Role but Helm hooks'.
func workloadRoles(r rendered) []obj {
	var out []obj
	for _, role := range r.all("Role") {
		if get(role, "metadata", "annotations", "helm.sh/hook") == nil {
			out = append(out, role)
		}
	}
	return out
}
