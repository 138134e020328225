package chart

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// promqlWords are PromQL's keywords and aggregation modifiers: identifiers
// that are not metric names.
var promqlWords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

var (
	promqlGrouping = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promqlIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
)

// metricNames returns the metric names an expression selects. It is no
// PromQL parser: it drops strings, label matchers, ranges and grouping
// labels, checks that brackets balance, and takes the identifiers that are
// neither keywords nor function calls.
func metricNames(expr string) ([]string, error) {
	var b strings.Builder
	var stack []rune
	inString := false
	for i := 0; i < len(expr); i++ {
		c := rune(expr[i])
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[' || c == '(':
			stack = append(stack, c)
			if c == '(' {
				b.WriteRune(c)
			} else {
				b.WriteRune(' ')
			}
		case c == '}' || c == ']' || c == ')':
			open := map[rune]rune{'}': '{', ']': '[', ')': '('}[c]
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return nil, fmt.Errorf("unbalanced %q at %d", c, i)
			}
			stack = stack[:len(stack)-1]
			if c == ')' {
				b.WriteRune(c)
			}
		case len(stack) > 0 && stack[len(stack)-1] != '(':
			// inside {matchers} or [range]
		default:
			b.WriteRune(c)
		}
	}
	if inString || len(stack) > 0 {
		return nil, fmt.Errorf("unterminated string or bracket in %q", expr)
	}
	rest := promqlGrouping.ReplaceAllString(b.String(), " ")
	var names []string
	for _, m := range promqlIdent.FindAllStringIndex(rest, -1) {
		if m[0] > 0 && strings.ContainsAny(rest[m[0]-1:m[0]], "0123456789.") {
			continue // inside a number (1e3, 0.5)
		}
		id := rest[m[0]:m[1]]
		if promqlWords[id] || strings.HasPrefix(strings.TrimLeft(rest[m[1]:], " \t\n"), "(") {
			continue // a keyword or a function call
		}
		names = append(names, id)
	}
	return names, nil
}

func TestMetricNames(t *testing.T) {
	got, err := metricNames(`sum by (pod, cap) (increase(a_total{x="y{[",z=~"a-[0-9]+"}[5m])) > 1e3 or absent(up{j="k"} == 1) unless on (pod) b:c`)
	if err != nil || strings.Join(got, " ") != "a_total up b:c" {
		t.Errorf("metricNames = %v, %v", got, err)
	}
	if _, err := metricNames(`rate(x[5m]`); err == nil {
		t.Error("unbalanced expression accepted")
	}
}

// exportedMetrics collects the metric names the node and the operator
// export from the Go source: every prometheus.*Opts literal with a Name in
// this module, and controller-runtime's controller metrics, which the
// operator serves. Histograms and summaries add their series suffixes; up is
// Prometheus's own.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	known := map[string]bool{"up": true}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/controller-runtime").Output()
	if err != nil {
		t.Fatalf("go list controller-runtime: %v", err)
	}
	crMetrics := filepath.Join(strings.TrimSpace(string(out)), "pkg", "internal", "controller", "metrics")
	for _, dir := range []string{root, crMetrics} {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != dir && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules" || d.Name() == "bin") {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			return collectMetricNames(p, known)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []string{"roomring_store_up", "roomring_cluster_ring_changes_total", "controller_runtime_reconcile_errors_total", "roomring_cluster_forward_duration_seconds_bucket"} {
		if !known[m] {
			t.Fatalf("the metric collection missed %s; found %d names", m, len(known))
		}
	}
	return known
}

func collectMetricNames(path string, known map[string]bool) error {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		sel, ok := lit.Type.(*ast.SelectorExpr)
		if !ok || !strings.HasSuffix(sel.Sel.Name, "Opts") {
			return true
		}
		parts := map[string]string{}
		for _, e := range lit.Elts {
			kv, ok := e.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			k, _ := kv.Key.(*ast.Ident)
			v, _ := kv.Value.(*ast.BasicLit)
			if k != nil && v != nil && v.Kind == token.STRING {
				parts[k.Name], _ = strconv.Unquote(v.Value)
			}
		}
		if parts["Name"] == "" {
			return true
		}
		var name []string
		for _, p := range []string{parts["Namespace"], parts["Subsystem"], parts["Name"]} {
			if p != "" {
				name = append(name, p)
			}
		}
		full := strings.Join(name, "_")
		known[full] = true
		if sel.Sel.Name == "HistogramOpts" || sel.Sel.Name == "SummaryOpts" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				known[full+s] = true
			}
		}
		return true
	})
	return nil
}
