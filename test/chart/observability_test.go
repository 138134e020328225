package chart

import (
	"encoding/json"
	goflag "flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/roomring/roomring/controllers"
)

// TestMetricsOffClientService: by default /metrics is on the admin port
// (never on the client Service) and the demo page is off; the monitors
// scrape the port the node serves /metrics on.
func TestMetricsOffClientService(t *testing.T) {
	for _, c := range []struct {
		name, values, port, demo string
		onAdmin                  bool
	}{
		{"default", "", "admin", "false", true},
		{"clusterip", filepath.Join(chartDir, "ci", "clusterip-values.yaml"), "http", "true", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := []string{"--set", "metrics.renderWithoutCRDs=true", "--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.podMonitor.enabled=true"}
			if c.values != "" {
				a = append(a, "-f", c.values)
			}
			r := render(t, a...)
			na := args(container(t, r.must(t, "StatefulSet", fullname), "node"))
			if _, ok := flag(na, "metrics-on-admin"); ok != c.onAdmin {
				t.Errorf("--metrics-on-admin given: %v, want %v", ok, c.onAdmin)
			}
			wantFlag(t, na, "demo", c.demo)
			if p := str(r.must(t, "ServiceMonitor", fullname+"-node"), "spec", "endpoints", 0, "port"); p != c.port {
				t.Errorf("node ServiceMonitor scrapes port %q, want %q", p, c.port)
			}
			if p := str(r.must(t, "PodMonitor", fullname+"-node"), "spec", "podMetricsEndpoints", 0, "port"); p != c.port {
				t.Errorf("node PodMonitor scrapes port %q, want %q", p, c.port)
			}
			if p := str(r.must(t, "PodMonitor", fullname+"-operator"), "spec", "podMetricsEndpoints", 0, "port"); p != "metrics" {
				t.Errorf("operator PodMonitor scrapes port %q", p)
			}
			// Without metricsFrom, Prometheus reaches the admin port from
			// inside the cluster only, and only once a monitor is enabled.
			adminFromAll := false
			for _, rule := range list(r.must(t, "NetworkPolicy", fullname+"-node"), "spec", "ingress") {
				if str(rule, "ports", 0, "port") == "admin" && get(rule, "from", 0, "namespaceSelector") != nil {
					adminFromAll = true
				}
			}
			if adminFromAll != c.onAdmin {
				t.Errorf("admin port open to the cluster's pods for Prometheus: %v, want %v", adminFromAll, c.onAdmin)
			}
		})
	}
	for _, rule := range list(render(t).must(t, "NetworkPolicy", fullname+"-node"), "spec", "ingress") {
		if str(rule, "ports", 0, "port") == "admin" && str(rule, "from", 0, "podSelector", "matchLabels", "app.kubernetes.io/component") != "operator" {
			t.Errorf("without a monitor the admin port is open to %v", get(rule, "from"))
		}
	}
}

// TestMonitoringNeedsCRDs: enabled monitoring objects render only when the
// cluster serves their kind, or with metrics.renderWithoutCRDs.
func TestMonitoringNeedsCRDs(t *testing.T) {
	on := []string{"--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.podMonitor.enabled=true", "--set", "metrics.prometheusRule.enabled=true"}
	count := func(r rendered) (n int) {
		for _, k := range []string{"ServiceMonitor", "PodMonitor", "PrometheusRule"} {
			n += len(r.all(k))
		}
		return n
	}
	if n := count(render(t, on...)); n != 0 {
		t.Errorf("%d monitoring objects rendered without their CRDs", n)
	}
	r := render(t, append(on, "--api-versions", "monitoring.coreos.com/v1/PrometheusRule")...)
	if len(r.all("PrometheusRule")) != 1 || len(r.all("ServiceMonitor"))+len(r.all("PodMonitor")) != 0 {
		t.Errorf("with only PrometheusRule served, rendered %v", r.names())
	}
	if n := count(render(t, append(on, "--set", "metrics.renderWithoutCRDs=true")...)); n != 5 {
		t.Errorf("renderWithoutCRDs rendered %d monitoring objects, want 5", n)
	}
}

// TestOperatorTuning: the operator's API rate and concurrency values
// default to the binary's defaults and reach its flags.
func TestOperatorTuning(t *testing.T) {
	parse := func(a []string) controllers.ManagerConfig {
		t.Helper()
		fs := goflag.NewFlagSet("operator", goflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var mc controllers.ManagerConfig
		mc.RegisterFlags(fs)
		fs.String("pool", "", "")
		fs.String("log-level", "", "")
		fs.String("log-format", "", "")
		if err := fs.Parse(a); err != nil {
			t.Fatalf("operator %v: %v", a, err)
		}
		return mc
	}
	binary := parse(nil)
	chart := parse(args(container(t, render(t).must(t, "Deployment", fullname+"-operator"), "operator"))[1:])
	if chart.KubeAPIQPS != binary.KubeAPIQPS || chart.KubeAPIBurst != binary.KubeAPIBurst ||
		chart.Controllers.MaxConcurrentReconciles != binary.Controllers.MaxConcurrentReconciles {
		t.Errorf("chart defaults qps %v burst %d reconciles %d, binary's %v %d %d", chart.KubeAPIQPS, chart.KubeAPIBurst,
			chart.Controllers.MaxConcurrentReconciles, binary.KubeAPIQPS, binary.KubeAPIBurst, binary.Controllers.MaxConcurrentReconciles)
	}
	r := render(t, "-f", filepath.Join(chartDir, "ci", "cluster-postgres-values.yaml"), "--set", "operator.kubeAPIBurst=1000000")
	set := parse(args(container(t, r.must(t, "Deployment", fullname+"-operator"), "operator"))[1:])
	if set.KubeAPIQPS != 7.5 || set.KubeAPIBurst != 1000000 || set.Controllers.MaxConcurrentReconciles != 8 {
		t.Errorf("set qps %v burst %d reconciles %d", set.KubeAPIQPS, set.KubeAPIBurst, set.Controllers.MaxConcurrentReconciles)
	}
	if _, err := template(t, "--set", "operator.maxConcurrentReconciles=0"); err == nil {
		t.Error("maxConcurrentReconciles=0 accepted")
	}
}

// TestPrometheusRule: every alert links its runbook section, carries the
// configured labels, and uses only metrics the node or operator exports.
func TestPrometheusRule(t *testing.T) {
	runbooks, err := os.ReadFile(filepath.Join(root, "docs", "runbooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	known := exportedMetrics(t)
	r := render(t, "-f", filepath.Join(chartDir, "ci", "monitoring-values.yaml"), "--set", "node.replicas=3", "--set", "store.allowNodeLocalStore=true")
	pr := r.must(t, "PrometheusRule", fullname)
	if str(pr, "metadata", "labels", "release") != "prometheus" {
		t.Error("PrometheusRule lacks the configured labels")
	}
	var alerts []string
	for _, g := range list(pr, "spec", "groups") {
		for _, rule := range list(g, "rules") {
			name := str(rule, "alert")
			alerts = append(alerts, name)
			if u := str(rule, "annotations", "runbook_url"); !strings.HasSuffix(u, "/docs/runbooks.md#"+strings.ToLower(name)) {
				t.Errorf("%s: runbook_url %q", name, u)
			}
			if !strings.Contains(string(runbooks), "\n## "+name+"\n") {
				t.Errorf("%s: no section in docs/runbooks.md", name)
			}
			if str(rule, "labels", "team") != "events" || str(rule, "labels", "severity") == "" {
				t.Errorf("%s: labels %v", name, get(rule, "labels"))
			}
			names, err := metricNames(str(rule, "expr"))
			if err != nil || len(names) == 0 {
				t.Errorf("%s: expression %q: %v (metrics %v)", name, str(rule, "expr"), err, names)
			}
			for _, m := range names {
				if !known[m] {
					t.Errorf("%s uses metric %s, which neither the node nor the operator exports", name, m)
				}
			}
		}
	}
	want := []string{"RoomringNodeDown", "RoomringRingMembersMissing", "RoomringStoreDown", "RoomringSlowConsumers",
		"RoomringForwardTimeouts", "RoomringConnectionCapHit", "RoomringPanics", "RoomringOperatorDown",
		"RoomringRoomsNotReconciled", "RoomringRoomsNotReady", "RoomringNamespaceRefused", "RoomringOperatorPanics"}
	if !slices.Equal(alerts, want) {
		t.Errorf("alerts %v, want %v (RoomringOwnerChurn disabled)", alerts, want)
	}
}

// TestNotesMonitoring: NOTES say which enabled monitoring objects were
// skipped for want of their CRDs, and that invite links need a page when
// the demo page is off.
func TestNotesMonitoring(t *testing.T) {
	n := notes(t, "--set", "metrics.podMonitor.enabled=true", "--set", "node.publicURL=https://rooms.example.org")
	if !strings.Contains(n, "the PodMonitor was not created") || strings.Contains(n, "ServiceMonitor was not") {
		t.Errorf("NOTES on a skipped PodMonitor:\n%s", n)
	}
	if !strings.Contains(n, "https://rooms.example.org/i/<code> (node.demo=false") {
		t.Errorf("NOTES on invite links without the demo page:\n%s", n)
	}
	if n := notes(t, "--set", "metrics.podMonitor.enabled=true", "--set", "metrics.renderWithoutCRDs=true"); strings.Contains(n, "was not created") {
		t.Errorf("NOTES with renderWithoutCRDs:\n%s", n)
	}
}

// TestGrafanaDashboard: the dashboard ConfigMap carries the sidecar's label
// and valid dashboard JSON whose queries use exported metrics only.
func TestGrafanaDashboard(t *testing.T) {
	if cms := render(t).all("ConfigMap"); len(cms) != 0 {
		t.Errorf("ConfigMaps rendered by default: %d", len(cms))
	}
	r := render(t, "-f", filepath.Join(chartDir, "ci", "monitoring-values.yaml"))
	cm := r.must(t, "ConfigMap", fullname+"-dashboard")
	if str(cm, "metadata", "labels", "grafana_dashboard") != "1" || str(cm, "metadata", "namespace") != "monitoring" ||
		str(cm, "metadata", "annotations", "grafana_folder") != "roomring" {
		t.Errorf("dashboard ConfigMap metadata %v", get(cm, "metadata"))
	}
	var d struct {
		Title, UID string
		Panels     []struct {
			Type, Title string
			Targets     []struct{ Expr string }
		}
	}
	if err := json.Unmarshal([]byte(str(cm, "data", "roomring.json")), &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) < 10 {
		t.Errorf("dashboard title %q uid %q with %d panels", d.Title, d.UID, len(d.Panels))
	}
	known := exportedMetrics(t)
	for _, p := range d.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no queries", p.Title)
		}
		for _, q := range p.Targets {
			names, err := metricNames(q.Expr)
			if err != nil || len(names) == 0 {
				t.Errorf("panel %q: %q: %v", p.Title, q.Expr, err)
			}
			for _, m := range names {
				if !known[m] {
					t.Errorf("panel %q uses metric %s, which neither the node nor the operator exports", p.Title, m)
				}
			}
		}
	}
}
