package nodeproc

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
)

// ClockFlags shorten failure detection and retries: the cluster's own
// mechanisms on a test's clock. FastFlags add to them; the operator's and
// the chart's tests add --rebuild-window.
var ClockFlags = []string{
	"--gossip-probe-interval=300ms", "--gossip-probe-timeout=200ms", "--gossip-suspicion-mult=2",
	"--gossip-interval=50ms", "--gossip-join-retry=200ms", "--gossip-push-pull-interval=2s",
	"--peer-reconnect-min=20ms", "--peer-reconnect-max=200ms", "--resync-retry=100ms",
}

// FastFlags are ClockFlags with a short leave and forward timeout, for
// the members of MemberArgs.
var FastFlags = append(slices.Clip(ClockFlags), "--gossip-leave-timeout=2s", "--forward-timeout=3s")

// MemberConfig is what differs between the test members of MemberArgs.
type MemberConfig struct {
	Name string
	// Listen, Gossip and Peer are the HTTP, gossip and peer-link
	// addresses, HOST:PORT; port 0 lets the kernel choose.
	Listen, Gossip, Peer string
	ClusterKey           string
	AdminToken           string
	Join                 []string // gossip addresses of members to join
	// NodeLocalStore opts the member into its own embedded store
	// (--allow-node-local-store); without it the test gives the member a
	// PostgreSQL DSN (ROOMRING_STORE) or the node refuses to start.
	NodeLocalStore bool
}

// MemberArgs returns the arguments (after the binary) of a dev-mode cluster
// member of a test: JSON logs (which StartMember reads), a fresh data
// directory, the sample rooms of config/samples/rooms.yaml,
// nodetest.Secret as the JWT secret, and FastFlags.
func MemberArgs(t testing.TB, c MemberConfig) []string {
	args := append([]string{"node", "--dev", "--log-format=json", "--log-level=info",
		"--listen=" + c.Listen, "--gossip-addr=" + c.Gossip, "--peer-addr=" + c.Peer,
		"--name=" + c.Name, "--cluster-key=" + c.ClusterKey, "--data-dir=" + t.TempDir(),
		"--jwt-secret=" + nodetest.Secret, "--admin-token=" + c.AdminToken,
		"--rooms=" + filepath.Join(nodetest.RepoRoot(), "config", "samples", "rooms.yaml")}, FastFlags...)
	if c.NodeLocalStore {
		args = append(args, "--allow-node-local-store")
	}
	if len(c.Join) > 0 {
		args = append(args, "--join="+strings.Join(c.Join, ","))
	}
	return args
}

// Member is a `roomring node` process that is a cluster member.
type Member struct {
	*Proc
	HTTP   string       // its HTTP listener, HOST:PORT
	Gossip string       // its gossip address
	Client *http.Client // reaches HTTP; StartMember sets http.DefaultClient
}

// StartMember starts cmd (as Start does), a `roomring node` with
// --log-format=json and a gossip address, and waits up to 30 seconds until
// it reports its HTTP listener and its gossip address.
func StartMember(t testing.TB, name string, cmd *exec.Cmd) *Member {
	t.Helper()
	m := &Member{Proc: Start(t, name, cmd), Client: http.DefaultClient}
	deadline := time.Now().Add(30 * time.Second)
	m.HTTP, _ = m.Record("node listening", time.Until(deadline))["addr"].(string)
	m.Gossip, _ = m.Record("cluster member", time.Until(deadline))["gossip"].(string)
	if m.HTTP == "" || m.Gossip == "" {
		t.Fatalf("%s: listening on %q, gossip on %q:\n%s", name, m.HTTP, m.Gossip, m.Output())
	}
	return m
}

// URL is the member's venueless websocket endpoint (world "default").
func (m *Member) URL() string { return "ws://" + m.HTTP + "/ws/world/default/" }

// Metric returns the value of the sample key of the member's /metrics (as
// exposed, labels included), or -1 when it is missing or unreachable.
func (m *Member) Metric(key string) float64 {
	resp, err := m.Client.Get("http://" + m.HTTP + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	samples, err := nodetest.ParseMetrics(resp.Body)
	if v, ok := samples[key]; ok && err == nil {
		return v
	}
	return -1
}

// WaitMembers waits up to 20 seconds for each of ms until it counts n
// cluster members (roomring_cluster_members).
func WaitMembers(t testing.TB, n int, ms ...*Member) {
	t.Helper()
	for _, m := range ms {
		testkit.Eventually(t, 20*time.Second, fmt.Sprintf("%s to see %d members", m.Name, n), func() bool {
			return m.Metric("roomring_cluster_members") == float64(n)
		})
	}
}
