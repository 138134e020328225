package node_test

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/cluster"
	"github.com/roomring/roomring/node/store/postgres"
)

// TestStoreTimeoutWarning: a cluster node on PostgreSQL whose
// --store-op-timeout is not below --forward-timeout is warned about (it
// starts anyway: docs/storage.md); the defaults are in the right order.
func TestStoreTimeoutWarning(t *testing.T) {
	if op, fwd := postgres.DefaultConfig().OpTimeout, cluster.DefaultConfig().ForwardTimeout; op >= fwd {
		t.Fatalf("default --store-op-timeout %v is not below the default --forward-timeout %v", op, fwd)
	}
	t.Setenv("ROOMRING_STORE", "")
	const dsn = "--store=postgres://roomring:pw@db.example.org:5432/roomring"
	cluster := []string{"--gossip-addr=127.0.0.1:0", "--cluster-key=a-test-cluster-passphrase"}
	for _, tc := range []struct {
		name string
		args []string
		warn bool
	}{
		{"cluster, defaults", append([]string{dsn}, cluster...), false},
		{"cluster, op timeout below forward timeout", append([]string{dsn, "--store-op-timeout=2s", "--forward-timeout=5s"}, cluster...), false},
		{"cluster, op timeout equal", append([]string{dsn, "--store-op-timeout=3s"}, cluster...), true},
		{"cluster, forward timeout shortened", append([]string{dsn, "--forward-timeout=2s", "--rebuild-window=1s"}, cluster...), true},
		{"standalone", []string{dsn, "--store-op-timeout=10s"}, false},
		{"cluster on bolt", append([]string{"--store-op-timeout=10s", "--allow-node-local-store"}, cluster...), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("node", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var cfg node.Config
			cfg.RegisterFlags(fs)
			if err := fs.Parse(append([]string{"--jwt-secret=" + strings.Repeat("j", 32), "--node-name=n1"}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			cfg.Complete()
			if err := cfg.Validate(); err != nil {
				t.Fatalf("the configuration is refused: %v", err)
			}
			var got []string
			for _, w := range cfg.Warnings() {
				if strings.Contains(w.Msg, "--store-op-timeout") {
					got = append(got, w.Msg)
				}
			}
			if (len(got) > 0) != tc.warn {
				t.Errorf("store timeout warnings %q, want a warning: %v", got, tc.warn)
			}
		})
	}
}

// TestClusterNeedsSharedStore: a cluster member on the embedded store is
// refused (--dev too) with an error naming the fixes, unless
// --allow-node-local-store opts in, which is then an accepted risk the node
// logs; a standalone node or a member on PostgreSQL needs nothing.
func TestClusterNeedsSharedStore(t *testing.T) {
	t.Setenv("ROOMRING_STORE", "")
	const dsn = "--store=postgres://roomring:pw@db.example.org:5432/roomring"
	cluster := []string{"--gossip-addr=127.0.0.1:0", "--cluster-key=a-test-cluster-passphrase"}
	const optIn = "--allow-node-local-store"
	for _, tc := range []struct {
		name          string
		args          []string
		refused, risk bool
	}{
		{"cluster on bolt", cluster, true, false},
		{"dev cluster on bolt", append([]string{"--dev"}, cluster...), true, false},
		{"joining cluster on bolt", []string{"--gossip-addr=127.0.0.1:0", "--join=127.0.0.2:7946", "--dev"}, true, false},
		{"cluster on bolt, opted in", append([]string{optIn}, cluster...), false, true},
		{"dev cluster on bolt, opted in", append([]string{"--dev", optIn}, cluster...), false, true},
		{"cluster on PostgreSQL", append([]string{dsn}, cluster...), false, false},
		{"cluster on PostgreSQL, opted in", append([]string{dsn, optIn}, cluster...), false, false},
		{"standalone on bolt", nil, false, false},
		{"standalone on bolt, opted in", []string{optIn}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("node", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var cfg node.Config
			cfg.RegisterFlags(fs)
			if err := fs.Parse(append([]string{"--jwt-secret=" + strings.Repeat("j", 32), "--node-name=n1"}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			cfg.Complete()
			err := cfg.Validate()
			if tc.refused {
				for _, want := range []string{"PostgreSQL", "make run-cluster", optIn} {
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Errorf("err = %v, want a refusal naming %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if risks := cfg.AcceptedRisks(); (len(risks) > 0) != tc.risk {
				t.Errorf("accepted risks %v, want one: %v", risks, tc.risk)
			}
			for _, w := range cfg.Warnings() {
				if strings.Contains(w.Msg, "node-local") || strings.Contains(w.Msg, "NODE-LOCAL") {
					t.Errorf("the opt-in is reported as a likely mistake: %s", w.Msg)
				}
			}
		})
	}
}
