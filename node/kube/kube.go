// Package kube connects a node to Kubernetes: with --kube-namespace the
// websocket's admin actions (room.create, room.config.patch,
// room.config.reorder, room.schedule, room.delete) write the Room custom
// resources of that namespace, so kubectl and clients see the same rooms,
// and then the node's catalog, so the client's reply and the node's clients
// see the change at once. The operator pushes the written Rooms to the
// whole pool; pushes of a configuration a node holds already change nothing
// there. See docs/operator.md.
package kube

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/roomring/roomring/api/v1alpha1"
)

// Config connects a node to Kubernetes.
type Config struct {
	// Namespace holds the Rooms this node's admin actions write. Empty: the
	// node is standalone and writes its own store.
	Namespace string
	// Kubeconfig is a kubeconfig file; empty means the in-cluster config,
	// then $KUBECONFIG, then ~/.kube/config.
	Kubeconfig string
	// Timeout bounds each admin action's requests to the API server.
	Timeout time.Duration
}

// DefaultTimeout is the default of Config.Timeout.
const DefaultTimeout = 10 * time.Second

// RegisterFlags registers the settings on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Namespace, "kube-namespace", "", "run under Kubernetes: admin actions write the Room resources of this namespace (default: standalone, rooms in the store)")
	fs.StringVar(&c.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster config, then $KUBECONFIG, then ~/.kube/config)")
	fs.DurationVar(&c.Timeout, "kube-timeout", DefaultTimeout, "timeout of an admin action's requests to the Kubernetes API server")
}

// Enabled reports whether the node runs under Kubernetes.
func (c *Config) Enabled() bool { return c.Namespace != "" }

// Validate reports configuration errors.
func (c *Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	var errs []error
	if msgs := validation.IsDNS1123Label(c.Namespace); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("--kube-namespace %q: %v", c.Namespace, msgs))
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("--kube-timeout must be positive"))
	}
	return errors.Join(errs...)
}

// RESTConfig loads the API server's address and credentials: from the
// kubeconfig file path when given, else in-cluster, else from $KUBECONFIG
// or ~/.kube/config.
func RESTConfig(path string) (*rest.Config, error) {
	if path == "" && os.Getenv("KUBECONFIG") == "" {
		if c, err := rest.InClusterConfig(); err == nil {
			return c, nil
		}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	c, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return c, nil
}

// NewClient returns a client of Rooms for cfg. It reads from the API
// server directly: admin actions are rare, and must see the newest Rooms.
func NewClient(cfg Config) (client.Client, error) {
	rc, err := RESTConfig(cfg.Kubeconfig)
	if err != nil {
		return nil, err
	}
	s := runtime.NewScheme()
	utilruntime.Must(v1alpha1.AddToScheme(s))
	c, err := client.New(rc, client.Options{Scheme: s})
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return c, nil
}
