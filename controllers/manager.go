package controllers

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/roomring/roomring/api/v1alpha1"
)

// ManagerConfig is the operator process's configuration: the manager's
// endpoints and leader election, and the controllers' Config.
type ManagerConfig struct {
	// MetricsAddr serves Prometheus metrics ("0" disables).
	MetricsAddr string
	// ProbeAddr serves /healthz and /readyz ("0" disables).
	ProbeAddr string
	// LeaderElect makes replicas elect one leader (a Lease) that
	// reconciles; the others wait.
	LeaderElect bool
	// LeaderElectionID names the Lease.
	LeaderElectionID string
	// LeaderElectionNamespace holds the Lease (default: the namespace the
	// operator runs in).
	LeaderElectionNamespace string
	// KubeAPIQPS and KubeAPIBurst bound the operator's requests to the
	// Kubernetes API (client-go's token bucket: QPS per second on average,
	// Burst at once). client-go's defaults, 5 and 10, made 500 new Rooms
	// (a finalizer patch and a status update each) take 201 s.
	KubeAPIQPS   float64
	KubeAPIBurst int
	// SkipNameValidation lets several managers in one process register the
	// same controller name (tests).
	SkipNameValidation bool
	// Registry receives the operator's own metrics (metrics.go); nil means
	// controller-runtime's metrics.Registry, the one the metrics endpoint
	// serves. Tests that run several managers give each its own.
	Registry    prometheus.Registerer
	Controllers Config
}

// Defaults of the operator's Kubernetes API rate (client-go's are 5 and 10).
const (
	DefaultKubeAPIQPS   = 100
	DefaultKubeAPIBurst = 200
)

// RegisterFlags registers the manager's and the controllers' flags on fs.
func (c *ManagerConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.MetricsAddr, "metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint (0: off)")
	fs.StringVar(&c.ProbeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz (0: off)")
	fs.BoolVar(&c.LeaderElect, "leader-elect", false, "elect one active operator among replicas (a Lease)")
	fs.StringVar(&c.LeaderElectionID, "leader-election-id", "roomring-operator.roomring.dev", "name of the leader election Lease")
	fs.StringVar(&c.LeaderElectionNamespace, "leader-election-namespace", "", "namespace of the Lease (default: the operator's namespace)")
	fs.Float64Var(&c.KubeAPIQPS, "kube-api-qps", DefaultKubeAPIQPS, "requests per second to the Kubernetes API, on average")
	fs.IntVar(&c.KubeAPIBurst, "kube-api-burst", DefaultKubeAPIBurst, "requests to the Kubernetes API at once, above --kube-api-qps")
	c.Controllers.RegisterFlags(fs)
}

// Validate reports configuration errors.
func (c *ManagerConfig) Validate() error {
	var errs []error
	if c.LeaderElect && c.LeaderElectionID == "" {
		errs = append(errs, errors.New("--leader-election-id is required with --leader-elect"))
	}
	if c.KubeAPIQPS <= 0 || c.KubeAPIBurst < 1 {
		errs = append(errs, errors.New("--kube-api-qps must be positive and --kube-api-burst at least 1"))
	}
	if err := c.Controllers.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// registerMetrics registers the operator's collectors on reg (nil:
// controller-runtime's metrics.Registry).
func registerMetrics(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	if reg == nil {
		reg = ctrlmetrics.Registry
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register operator metrics: %w", err)
		}
	}
	return nil
}

// NewScheme returns the scheme of the operator's objects.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1alpha1.AddToScheme(s))
	return s
}

// NewManager assembles the operator: a manager with the Room and World
// controllers and the pool watcher, health probes and metrics.
func NewManager(restCfg *rest.Config, cfg ManagerConfig, pool Pool, log logr.Logger) (ctrl.Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts := ctrl.Options{
		Scheme:                  NewScheme(),
		Logger:                  log,
		Metrics:                 metricsserver.Options{BindAddress: cfg.MetricsAddr},
		HealthProbeBindAddress:  cfg.ProbeAddr,
		LeaderElection:          cfg.LeaderElect,
		LeaderElectionID:        cfg.LeaderElectionID,
		LeaderElectionNamespace: cfg.LeaderElectionNamespace,
		// The leader steps down at once on SIGTERM, so a new one takes
		// over without waiting for the lease to expire.
		LeaderElectionReleaseOnCancel: true,
	}
	if cfg.SkipNameValidation {
		skip := true
		opts.Controller.SkipNameValidation = &skip
	}
	if len(cfg.Controllers.Namespaces) > 0 {
		opts.Cache.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range cfg.Controllers.Namespaces {
			opts.Cache.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	restCfg = rest.CopyConfig(restCfg)
	restCfg.QPS, restCfg.Burst = float32(cfg.KubeAPIQPS), cfg.KubeAPIBurst
	mgr, err := ctrl.NewManager(restCfg, opts)
	if err != nil {
		return nil, fmt.Errorf("new manager: %w", err)
	}
	if err := indexFields(mgr); err != nil {
		return nil, err
	}
	resync := make(chan event.GenericEvent)
	claims, err := addNamespaceClaims(mgr, &cfg, log, resync)
	if err != nil {
		return nil, err
	}
	health := NewPoolHealth()
	served := claimedNamespaces(cfg.Controllers.Namespaces, claims)
	if err := registerMetrics(cfg.Registry, newRoomsCollector(mgr.GetCache(), served),
		newWorldsCollector(mgr.GetCache(), served), health); err != nil {
		return nil, err
	}
	if cfg.Controllers.ReportUnwatchedRooms {
		if err := addUnwatchedRoomReporter(mgr, &cfg.Controllers); err != nil {
			return nil, fmt.Errorf("unwatched Room reporter: %w", err)
		}
	}
	rec := &RoomReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
		Recorder: mgr.GetEventRecorderFor("roomring-operator"), Pool: pool, Config: cfg.Controllers, Resync: resync, Claims: claims}
	if err := rec.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("room controller: %w", err)
	}
	wrec := &WorldReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
		Recorder: mgr.GetEventRecorderFor("roomring-operator"), Pool: pool, Config: cfg.Controllers}
	if err := wrec.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("world controller: %w", err)
	}
	w := &PoolWatcher{Pool: pool, Cache: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Config: cfg.Controllers,
		Log: log.WithName("pool-watcher"), Resync: resync, Elected: mgr.Elected(), Health: health, Claims: claims}
	if err := mgr.Add(w); err != nil {
		return nil, fmt.Errorf("pool watcher: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("cache-and-pool", readyCheck(mgr.GetCache(), health, cfg.Controllers.PoolReadyWindow)); err != nil {
		return nil, fmt.Errorf("ready check: %w", err)
	}
	return mgr, nil
}

// indexFields registers the field indexes the controllers list by.
func indexFields(mgr ctrl.Manager) error {
	idx := mgr.GetFieldIndexer()
	ctx := context.Background()
	err := errors.Join(
		idx.IndexField(ctx, &v1alpha1.Room{}, RoomIDField, IndexRoomID),
		idx.IndexField(ctx, &v1alpha1.Room{}, RoomWorldField, IndexRoomWorld),
		idx.IndexField(ctx, &v1alpha1.World{}, WorldNameField, IndexWorldName),
		idx.IndexField(ctx, &v1alpha1.World{}, WorldSecretField, IndexWorldSecrets),
	)
	if err != nil {
		return fmt.Errorf("index fields: %w", err)
	}
	return nil
}
