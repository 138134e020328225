package chart

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

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
// release namespace (or the Rooms' namespace; cluster-scoped kinds in none), workloads hardened and probed,
// selectors matching their pods, Services pointing at named container ports.
func checkInvariants(t *testing.T, r rendered) {
	t.Helper()
	for _, o := range r.objs {
		ns := str(o, "metadata", "namespace")
		switch o.kind() {
		case "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding":
			if ns != "" {
				t.Errorf("%s %s has a namespace", o.kind(), o.name())
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
