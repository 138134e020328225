package chart

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

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
	// The node refuses a pool on node-local stores unless opted in: the
	// chart opts in exactly when it gives no DSN (one node, or
	// allowNodeLocalStore).
	for _, tc := range []struct {
		name string
		args []string
		want bool
	}{
		{"defaults", nil, true},
		{"allowNodeLocalStore", []string{"--set", "node.replicas=3", "--set", "store.allowNodeLocalStore=true"}, true},
		{"PostgreSQL", []string{"--set", "node.replicas=3", "--set", "store.dsnSecret.name=db"}, false},
	} {
		_, got := flag(args(container(t, render(t, tc.args...).must(t, "StatefulSet", fullname), "node")), "allow-node-local-store")
		if got != tc.want {
			t.Errorf("%s: --allow-node-local-store given %v, want %v", tc.name, got, tc.want)
		}
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

// TestNotesHelmTestAndAutoscaling: NOTES tell how to run the chart's test
// Pod, and what autoscaling the ring does, only when those are on.
func TestNotesHelmTestAndAutoscaling(t *testing.T) {
	def := notes(t)
	if !strings.Contains(def, "helm test "+release) {
		t.Errorf("NOTES with the defaults lack the helm test command:\n%s", def)
	}
	if strings.Contains(def, "autoscales") {
		t.Error("NOTES mention autoscaling with autoscaling off")
	}
	on := notes(t, "--set", "autoscaling.enabled=true", "--set", "store.dsnSecret.name=db", "--set", "tests.enabled=false")
	if !strings.Contains(on, "The node pool autoscales (3–6 nodes)") || strings.Contains(on, "helm test") {
		t.Errorf("NOTES with autoscaling on and tests off:\n%s", on)
	}
}
