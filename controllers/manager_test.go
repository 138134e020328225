package controllers_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomring/roomring/controllers"
	"github.com/roomring/roomring/node/nodetest"
)

func TestKubeAPIRateFlags(t *testing.T) {
	var cfg controllers.ManagerConfig
	fs := flag.NewFlagSet("operator", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if cfg.KubeAPIQPS != 100 || cfg.KubeAPIBurst != 200 || cfg.Controllers.MaxConcurrentReconciles != 4 {
		t.Fatalf("defaults: qps %v burst %d reconciles %d", cfg.KubeAPIQPS, cfg.KubeAPIBurst, cfg.Controllers.MaxConcurrentReconciles)
	}
	cfg.SkipNameValidation = true           // other tests run managers with the same controller name
	cfg.Registry = prometheus.NewRegistry() // and register the operator's metrics
	// The manager is never started: it must not hold the default ports
	// (":8080", ":8081") for the next run or another test.
	if err := fs.Parse([]string{"--kube-api-qps=200", "--kube-api-burst=400", "--max-concurrent-reconciles=16",
		"--metrics-bind-address=0", "--health-probe-bind-address=0"}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	// The manager's client uses the rate (the caller's rest.Config is left
	// alone).
	mgr, err := controllers.NewManager(env.Config, cfg, nodetest.AdminClient(t, token, "127.0.0.1:1"), logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	if rc := mgr.GetConfig(); rc.QPS != 200 || rc.Burst != 400 {
		t.Errorf("manager's rest config: qps %v burst %d, want 200 and 400", rc.QPS, rc.Burst)
	}
	if env.Config.QPS == 200 {
		t.Error("NewManager changed the caller's rest.Config")
	}
	cfg.KubeAPIQPS = 0
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "--kube-api-qps") {
		t.Errorf("qps 0: %v", err)
	}
}
