package cluster_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/node/nodetest/nodeproc"
)

// TestNodeLocalStoreRefused: `roomring node --dev` with a gossip address and
// no PostgreSQL DSN (the old quick start of docs/cluster.md) exits with an
// error that names the fixes; with --allow-node-local-store it starts and
// says so at warn level.
func TestNodeLocalStoreRefused(t *testing.T) {
	args := func(dir string, extra ...string) []string {
		return append([]string{"node", "--dev", "--log-format=json", "--listen=127.0.0.1:0",
			"--gossip-addr=127.0.0.1:0", "--peer-addr=127.0.0.1:0", "--data-dir=" + dir,
			"--rooms=" + filepath.Join(nodetest.RepoRoot(), "config", "samples", "rooms.yaml")}, extra...)
	}
	env := func(cmd *exec.Cmd) *exec.Cmd {
		cmd.Env = append(os.Environ(), "ROOMRING_STORE=")
		return cmd
	}
	dir := t.TempDir()
	p := nodeproc.Start(t, "refused", env(exec.Command(nodeproc.Binary(t), args(dir)...)))
	if err := p.Wait(30 * time.Second); err == nil {
		t.Fatalf("a cluster member on the embedded store started:\n%s", p.Output())
	}
	for _, want := range []string{"needs the pool's shared store", "PostgreSQL", "make run-cluster", "--allow-node-local-store"} {
		if !strings.Contains(p.Output(), want) {
			t.Errorf("the refusal does not say %q:\n%s", want, p.Output())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "roomring.db")); err == nil {
		t.Error("the refused node opened its store")
	}

	// StartMember returns once the node listens; the warning comes first.
	m := nodeproc.StartMember(t, "opted-in", env(exec.Command(nodeproc.Binary(t), args(t.TempDir(), "--allow-node-local-store")...)))
	warned := false
	for _, l := range strings.Split(m.Output(), "\n") {
		warned = warned || strings.Contains(l, "NODE-LOCAL STORE IN A POOL") && strings.Contains(l, `"level":"WARN"`)
	}
	if !warned {
		t.Errorf("no warning about the node-local store at start:\n%s", m.Output())
	}
}
