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
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
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
