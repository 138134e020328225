package cmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/roomring/roomring/controllers/poolclient"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/roomring/roomring/controllers"
	"github.com/roomring/roomring/node/kube"
)

// runOperator runs the Room operator: a controller-runtime manager with
// leader election, health probes and metrics (docs/operator.md).
//
// `roomring operator release-finalizers` is the teardown helper of
// finalizers.go.
func runOperator(args []string) error {
	if len(args) > 0 && args[0] == "release-finalizers" {
		return runReleaseFinalizers(args[1:])
	}
	fs := flag.NewFlagSet("operator", flag.ContinueOnError)
	var cfg controllers.ManagerConfig
	cfg.RegisterFlags(fs)
	var pool poolclient.Config
	pool.RegisterFlags(fs)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file (default: in-cluster config, then $KUBECONFIG, then ~/.kube/config)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pool.Complete()
	if err := errors.Join(cfg.Validate(), pool.Validate()); err != nil {
		return err
	}
	log, err := newLogger(*logLevel, *logFormat)
	if err != nil {
		return err
	}
	lr := logr.FromSlogHandler(log.Handler())
	ctrl.SetLogger(lr)
	pc, err := poolclient.New(pool)
	if err != nil {
		return err
	}
	defer pc.Close()
	rc, err := kube.RESTConfig(*kubeconfig)
	if err != nil {
		return err
	}
	mgr, err := controllers.NewManager(rc, cfg, pc, lr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log.Info("operator starting", "pool", pool.Pool, "namespaces", cfg.Controllers.Namespaces, "leader_elect", cfg.LeaderElect)
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("operator: %w", err)
	}
	log.Info("operator stopped")
	return nil
}
