package chart

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestTeardownHook: the post-delete hook that releases the operator's
// finalizers after helm uninstall — a Job running `roomring operator
// release-finalizers` on the Rooms' namespace, waiting for the operator's
// Lease, with its own least-privilege RBAC, all of it Helm hooks.
func TestTeardownHook(t *testing.T) {
	r := render(t)
	name := fullname + "-teardown"
	job := r.must(t, "Job", name)
	for _, o := range []obj{job, r.must(t, "ServiceAccount", name), r.must(t, "Role", name), r.must(t, "RoleBinding", name)} {
		if h := str(o, "metadata", "annotations", "helm.sh/hook"); h != "post-delete" {
			t.Errorf("%s/%s: helm.sh/hook %q, want post-delete", o.kind(), o.name(), h)
		}
		if p := str(o, "metadata", "annotations", "helm.sh/hook-delete-policy"); p != "before-hook-creation,hook-succeeded" {
			t.Errorf("%s/%s: hook-delete-policy %q", o.kind(), o.name(), p)
		}
	}
	ctr := container(t, job, "release-finalizers")
	a := args(ctr)
	if !slices.Equal(a[:2], []string{"operator", "release-finalizers"}) {
		t.Errorf("teardown args %q", a)
	}
	wantFlag(t, a, "namespace", namespace)
	wantFlag(t, a, "lease", fullname+"-operator")
	wantFlag(t, a, "lease-namespace", namespace)
	wantFlag(t, a, "claim-holder", namespace+"/"+release)
	wantFlag(t, a, "timeout", "120s")
	if sa := str(job, "spec", "template", "spec", "serviceAccountName"); sa != name {
		t.Errorf("teardown Job service account %q", sa)
	}
	want := map[string]bool{"get coordination.k8s.io/leases": true, "list roomring.dev/rooms": true, "patch roomring.dev/rooms": true,
		"list roomring.dev/worlds": true, "patch roomring.dev/worlds": true}
	if got := grants(t, r.must(t, "Role", name)); !reflect.DeepEqual(got, want) {
		t.Errorf("teardown Role grants %v, want %v", got, want)
	}
	if get(job, "spec", "template", "metadata", "labels", "app.kubernetes.io/component") != "teardown" {
		t.Error("the teardown pod would be selected as an operator pod")
	}

	// Rooms in another namespace: the rooms rule moves to a Role there,
	// with the right to read the namespace's claim Lease.
	other := render(t, "--set", "node.kubeNamespace=rooms")
	var roles []string
	for _, role := range other.all("Role") {
		if role.name() == name {
			roles = append(roles, str(role, "metadata", "namespace"))
			if str(role, "metadata", "namespace") == "rooms" && !reflect.DeepEqual(grants(t, role), want) {
				t.Errorf("teardown Role in the Rooms' namespace grants %v, want %v", grants(t, role), want)
			}
		}
	}
	if slices.Sort(roles); !slices.Equal(roles, []string{namespace, "rooms"}) {
		t.Errorf("teardown Roles in %v, want the release and the Rooms' namespace", roles)
	}
	wantFlag(t, args(container(t, other.must(t, "Job", name), "release-finalizers")), "namespace", "rooms")

	// Without leader election there is no Lease to wait for.
	noLease := args(container(t, render(t, "--set", "operator.leaderElection=false").must(t, "Job", name), "release-finalizers"))
	if _, ok := flag(noLease, "lease"); ok {
		t.Errorf("--lease without leader election: %q", noLease)
	}
	for _, off := range [][]string{{"--set", "teardown.releaseFinalizers=false"}, {"--set", "operator.enabled=false"}} {
		if j := render(t, off...).find("Job", name); j != nil {
			t.Errorf("teardown Job rendered with %v", off)
		}
	}
}

// checksum returns the pod template's checksum/secret of a workload.
func checksum(t *testing.T, w obj) string {
	t.Helper()
	c := str(w, "spec", "template", "metadata", "annotations", "checksum/secret")
	if len(c) != 64 {
		t.Fatalf("%s/%s: checksum/secret %q", w.kind(), w.name(), c)
	}
	return c
}

// TestChecksumAnnotations: both pod templates carry the hash of the Secret
// as rendered (the same random values, not a second draw); given values
// make it stable, and a changed value changes it, so pods roll. With lookup
// unavailable (helm template), generated values — and so the hash — change
// on every render: the documented GitOps path is existingSecret.
func TestChecksumAnnotations(t *testing.T) {
	r := render(t)
	data := secretData(t, r, fullname)
	var lines []string
	for _, k := range []string{"admin-token", "cluster-key", "jwt-secret"} { // toYaml's sorted keys
		lines = append(lines, k+": "+base64.StdEncoding.EncodeToString([]byte(data[k])))
	}
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	want := hex.EncodeToString(sum[:])
	sts, op := r.must(t, "StatefulSet", fullname), r.must(t, "Deployment", fullname+"-operator")
	if got := checksum(t, sts); got != want {
		t.Errorf("StatefulSet checksum/secret %s, want the hash of the rendered Secret %s", got, want)
	}
	if got := checksum(t, op); got != want {
		t.Errorf("operator checksum/secret %s, want %s", got, want)
	}
	if checksum(t, render(t).must(t, "StatefulSet", fullname)) == want {
		t.Error("generated secrets gave the same checksum in two renders: not regenerated, or not hashed")
	}

	given := filepath.Join(chartDir, "ci", "cluster-postgres-values.yaml")
	a := checksum(t, render(t, "-f", given).must(t, "StatefulSet", fullname))
	if b := checksum(t, render(t, "-f", given).must(t, "StatefulSet", fullname)); a != b {
		t.Errorf("given secrets: checksum changed between renders (%s, %s)", a, b)
	}
	changed := render(t, "-f", given, "--set", "secrets.jwtSecret=another-jwt-secret-0123456789")
	if checksum(t, changed.must(t, "StatefulSet", fullname)) == a || checksum(t, changed.must(t, "Deployment", fullname+"-operator")) == a {
		t.Error("a changed JWT secret left checksum/secret as it was: pods would not roll")
	}
	// Pod annotations from values are kept beside it.
	withAnn := render(t, "--set", "node.podAnnotations.team=events")
	if str(withAnn.must(t, "StatefulSet", fullname), "spec", "template", "metadata", "annotations", "team") != "events" {
		t.Error("node.podAnnotations lost next to checksum/secret")
	}
	ex := filepath.Join(chartDir, "ci", "existing-secret-values.yaml")
	if a, b := checksum(t, render(t, "-f", ex).must(t, "StatefulSet", fullname)), checksum(t, render(t, "-f", ex).must(t, "StatefulSet", fullname)); a != b {
		t.Errorf("existingSecret: checksum changed between renders (%s, %s)", a, b)
	}
}

// TestCRDShared: the CRD template is rendered only when this release
// manages it (roomring.manageCRD looks the CRD up; the e2e test installs a
// second release against a real API server).
func TestCRDShared(t *testing.T) {
	off := render(t, "--set", "crds.install=false")
	for _, crd := range []string{"rooms.roomring.dev", "worlds.roomring.dev"} {
		file := "roomring.dev_" + strings.TrimSuffix(crd, ".roomring.dev") + ".yaml"
		src, err := os.ReadFile(filepath.Join(chartDir, "templates", "crds", file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(src), `{{- if include "roomring.manageCRD" (list . "`+crd+`") }}`) {
			t.Errorf("the CRD template of %s is not gated on roomring.manageCRD", crd)
		}
		if off.find("CustomResourceDefinition", crd) != nil {
			t.Errorf("CRD %s rendered with crds.install=false", crd)
		}
	}
}

// TestGoMemLimit: GOMEMLIMIT comes from each container's own memory limit,
// and goMemLimit=false leaves it out.
func TestGoMemLimit(t *testing.T) {
	r := render(t)
	for _, c := range []struct{ kind, name, ctr string }{
		{"StatefulSet", fullname, "node"}, {"Deployment", fullname + "-operator", "operator"},
	} {
		var ref any
		for _, e := range list(container(t, r.must(t, c.kind, c.name), c.ctr), "env") {
			if str(e, "name") == "GOMEMLIMIT" {
				ref = get(e, "valueFrom", "resourceFieldRef")
			}
		}
		want := map[string]any{"containerName": c.ctr, "resource": "limits.memory"}
		if !reflect.DeepEqual(ref, want) {
			t.Errorf("%s: GOMEMLIMIT from %v, want %v", c.ctr, ref, want)
		}
	}
	off := render(t, "--set", "node.goMemLimit=false")
	for _, e := range list(container(t, off.must(t, "StatefulSet", fullname), "node"), "env") {
		if str(e, "name") == "GOMEMLIMIT" {
			t.Error("GOMEMLIMIT with node.goMemLimit=false")
		}
	}
}
