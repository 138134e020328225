package chart

import (
	"errors"
	goflag "flag"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roomring/roomring/controllers"
	"github.com/roomring/roomring/controllers/poolclient"
	roomnode "github.com/roomring/roomring/node"
)

// TestArgsAreRealFlags parses the args the chart gives the node and the
// operator with the flag sets of the code they run, and validates the node's
// configuration as `roomring node` does, with the chart's environment: a
// renamed or removed flag fails here, not in a crash-looping pod.
func TestArgsAreRealFlags(t *testing.T) {
	t.Setenv("ROOMRING_JWT_SECRET", strings.Repeat("j", 48))
	t.Setenv("ROOMRING_CLUSTER_KEY", strings.Repeat("c", 48))
	t.Setenv("ROOMRING_ADMIN_TOKEN", strings.Repeat("a", 48))
	t.Setenv("KUBECONFIG", "")
	for _, f := range ciValues(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := render(t, "-f", f)
			sts := r.must(t, "StatefulSet", fullname)
			node := container(t, sts, "node")
			if e := env(node, "ROOMRING_STORE"); e != nil {
				t.Setenv("ROOMRING_STORE", "postgres://roomring:pw@db.example.org:5432/roomring")
			} else {
				t.Setenv("ROOMRING_STORE", "")
			}
			a := expandEnv(args(node), map[string]string{"POD_IP": "10.1.2.3", "POD_NAME": fullname + "-0", "POD_NAMESPACE": namespace})
			fs := goflag.NewFlagSet("node", goflag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var cfg roomnode.Config
			cfg.RegisterFlags(fs)
			fs.Duration("shutdown-timeout", 0, "registered by cmd.runNode")
			if err := fs.Parse(a[1:]); err != nil {
				t.Fatalf("roomring node %v: %v", a[1:], err)
			}
			if fs.NArg() != 0 {
				t.Errorf("node args left unparsed: %v", fs.Args())
			}
			cfg.Complete()
			if err := cfg.Validate(); err != nil {
				t.Errorf("roomring node with the chart's args and environment: %v", err)
			}
			for _, w := range cfg.Warnings() {
				t.Errorf("roomring node with the chart's args warns: %s %v", w.Msg, w.Args)
			}
			if !cfg.Cluster.Enabled() || cfg.Cluster.Key == "" || cfg.Admin.Token == "" {
				t.Errorf("the node is not a keyed cluster member with the admin API on: cluster %v, key set %v, admin token set %v",
					cfg.Cluster.Enabled(), cfg.Cluster.Key != "", cfg.Admin.Token != "")
			}

			op := container(t, r.must(t, "Deployment", fullname+"-operator"), "operator")
			oa := args(op)
			ofs := goflag.NewFlagSet("operator", goflag.ContinueOnError)
			ofs.SetOutput(io.Discard)
			var mc controllers.ManagerConfig
			mc.RegisterFlags(ofs)
			var pool poolclient.Config
			pool.RegisterFlags(ofs)
			ofs.String("log-level", "", "registered by cmd.runOperator")
			ofs.String("log-format", "", "registered by cmd.runOperator")
			if err := ofs.Parse(oa[1:]); err != nil {
				t.Fatalf("roomring operator %v: %v", oa[1:], err)
			}
			pool.Complete()
			if err := errors.Join(mc.Validate(), pool.Validate()); err != nil {
				t.Errorf("the operator's configuration: %v", err)
			}
			if pool.Token == "" || len(pool.Pool) != 1 || !mc.LeaderElect {
				t.Errorf("operator: pool %v, token set %v, leader election %v", pool.Pool, pool.Token != "", mc.LeaderElect)
			}
		})
	}
}
