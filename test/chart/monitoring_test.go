package chart

import (
	"path/filepath"
	"slices"
	"testing"
)

func TestMonitoringAndNetworkPolicy(t *testing.T) {
	r := render(t, "-f", filepath.Join(chartDir, "ci", "monitoring-values.yaml"))
	sms := r.all("ServiceMonitor")
	if len(sms) != 2 {
		t.Fatalf("ServiceMonitors = %d, want 2 (nodes, operator)", len(sms))
	}
	for _, sm := range sms {
		if str(sm, "metadata", "labels", "release") != "prometheus" {
			t.Errorf("ServiceMonitor %s lacks the configured labels", sm.name())
		}
		sel, _ := asMap(get(sm, "spec", "selector", "matchLabels"))
		port := str(sm, "spec", "endpoints", 0, "port")
		var hit []string
		for _, s := range r.all("Service") {
			labels, _ := asMap(get(s, "metadata", "labels"))
			ok := true
			for k, v := range sel {
				ok = ok && labels[k] == v
			}
			if ok {
				hit = append(hit, s.name())
				named := false
				for _, p := range list(s, "spec", "ports") {
					named = named || str(p, "name") == port
				}
				if !named {
					t.Errorf("ServiceMonitor %s scrapes port %q, which Service %s lacks", sm.name(), port, s.name())
				}
			}
		}
		if len(hit) != 1 {
			t.Errorf("ServiceMonitor %s selects Services %v, want exactly one", sm.name(), hit)
		}
	}
	np := r.must(t, "NetworkPolicy", fullname+"-node")
	adminRules := 0
	for _, rule := range list(np, "spec", "ingress") {
		var ports []string
		for _, p := range list(rule, "ports") {
			ports = append(ports, str(p, "port"))
		}
		from := list(rule, "from")
		if len(from) == 0 {
			t.Errorf("a node ingress rule allows ports %v from anywhere despite clientFrom", ports)
		}
		if slices.Contains(ports, "gossip-udp") || slices.Contains(ports, "peer") {
			if len(from) != 1 || str(from[0], "podSelector", "matchLabels", "app.kubernetes.io/component") != "node" {
				t.Errorf("gossip and peer ports open to %v, want node pods only", from)
			}
		}
		if slices.Contains(ports, "admin") {
			adminRules++
			operator := len(from) == 1 && str(from[0], "podSelector", "matchLabels", "app.kubernetes.io/component") == "operator"
			prometheus := len(from) == 1 && str(from[0], "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name") == "monitoring"
			if len(ports) != 1 || !operator && !prometheus {
				t.Errorf("admin port in a rule for ports %v from %v, want rules of its own from the operator's pods and metricsFrom only", ports, from)
			}
		}
	}
	if adminRules != 2 {
		t.Errorf("%d node ingress rules admit the admin port, want 2 (the operator's, Prometheus' for /metrics)", adminRules)
	}
	checkPodMonitorPorts(t, r)
	opnp := r.must(t, "NetworkPolicy", fullname+"-operator")
	if str(opnp, "spec", "ingress", 0, "from", 0, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name") != "monitoring" {
		t.Errorf("operator NetworkPolicy ignores metricsFrom: %v", get(opnp, "spec"))
	}
}

// checkPodMonitorPorts: a PodMonitor for the nodes and one for the operator,
// each scraping a port its workload's containers name.
func checkPodMonitorPorts(t *testing.T, r rendered) {
	t.Helper()
	if len(r.all("PodMonitor")) != 2 {
		t.Errorf("PodMonitors = %d, want 2 (nodes, operator)", len(r.all("PodMonitor")))
	}
	for _, pm := range r.all("PodMonitor") {
		port := str(pm, "spec", "podMetricsEndpoints", 0, "port")
		sel, _ := asMap(get(pm, "spec", "selector", "matchLabels"))
		w := matchesWorkload(r, sel)
		if w == nil {
			t.Errorf("PodMonitor %s selects no workload", pm.name())
			continue
		}
		named := false
		for _, c := range list(w, "spec", "template", "spec", "containers") {
			for _, p := range list(c, "ports") {
				named = named || str(p, "name") == port
			}
		}
		if !named {
			t.Errorf("PodMonitor %s scrapes port %q, which %s's containers lack", pm.name(), port, w.name())
		}
	}
}
