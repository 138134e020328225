package chart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestNoCRDs(t *testing.T) {
	r := render(t, "-f", filepath.Join(chartDir, "ci", "no-crds-values.yaml"))
	if c := r.all("CustomResourceDefinition"); len(c) != 0 {
		t.Error("CRD rendered with crds.install=false")
	}
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
