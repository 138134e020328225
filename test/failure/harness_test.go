// Package failure holds the failure tests of issue 7: three processes of the
// real roomring binary sharing one real PostgreSQL server, real websocket
// clients writing resource reactions through every node at a steady rate,
// and a real failure in the middle — the room owner SIGKILLed, or the
// database stopped and started again. Afterwards every client's record of
// what was acknowledged is checked against what the nodes serve
// (docs/storage.md, "What a failure costs").
//
// They need PostgreSQL (hack/setup-test-deps.sh); ROOMRING_SKIP_PG=1 skips
// them.
package failure

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/roomring/roomring/controllers/poolclient"
	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/node/nodetest/nodeproc"
)

// Test nodes' shared secrets.
const (
	clusterKey = "failure-test-cluster-passphrase"
	adminToken = "failure-test-admin-token"
)

// room is the room every writer writes in: a sample room with a fixed id
// that every node loads (config/samples/rooms.yaml).
const room = "room_1"

func TestMain(m *testing.M) { nodeproc.Main(m) }

// storeFlags make an operation on an unreachable database fail within the
// forward timeout (nodeproc.FastFlags), so the client hears the store's
// verdict rather than the edge's own timeout.
var storeFlags = []string{"--store-op-timeout=2s", "--store-connect-timeout=1s", "--store-health-interval=100ms",
	// The writers retry at once when service resumes; a user's resource
	// write rate (a hardening limit, tested in node/reaction) is not what
	// these failure tests measure, and its refusals would not be
	// server.unavailable.
	"--resource-write-rate=100000", "--resource-write-burst=100000"}

// proc is a node running as a child process.
type proc struct {
	*nodeproc.Member
	admin *poolclient.Client
}

// startNode starts a node named name on host (ports chosen by the kernel)
// whose store is PostgreSQL at dsn (given in ROOMRING_STORE, as
// docs/storage.md recommends), joining join; it waits until the node
// listens.
func startNode(t *testing.T, host, name, dsn string, join ...string) *proc {
	t.Helper()
	args := append(nodeproc.MemberArgs(t, nodeproc.MemberConfig{Name: name, Listen: host + ":0", Gossip: host + ":0", Peer: host + ":0",
		ClusterKey: clusterKey, AdminToken: adminToken, Join: join}), storeFlags...)
	cmd := exec.Command(nodeproc.Binary(t), args...)
	cmd.Env = append(os.Environ(), "ROOMRING_STORE="+dsn)
	p := &proc{Member: nodeproc.StartMember(t, name, cmd)}
	p.Client = &http.Client{Timeout: 2 * time.Second}
	cfg := poolclient.DefaultConfig()
	cfg.Pool, cfg.Token, cfg.Timeout = []string{p.HTTP}, adminToken, 2*time.Second
	p.admin = nodetest.AdminClientWith(t, cfg)
	return p
}

// owner returns the owner of room as p reports it (admin API), "" when p
// cannot say.
func (p *proc) owner(room string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := p.admin.Room(ctx, room)
	if err != nil {
		return ""
	}
	return st.Owner
}

// startCluster starts three nodes named node-0..2 on 127.0.0.2..4 sharing
// the database at dsn and waits until each sees all three.
func startCluster(t *testing.T, dsn string) []*proc {
	t.Helper()
	p0 := startNode(t, "127.0.0.2", "node-0", dsn)
	p1 := startNode(t, "127.0.0.3", "node-1", dsn, p0.Gossip)
	p2 := startNode(t, "127.0.0.4", "node-2", dsn, p0.Gossip)
	nodeproc.WaitMembers(t, 3, p0.Member, p1.Member, p2.Member)
	return []*proc{p0, p1, p2}
}

// agreedOwner waits until every node of ps names the same owner of room,
// one of ps, and returns it.
func agreedOwner(t *testing.T, ps ...*proc) *proc {
	t.Helper()
	var owner *proc
	testkit.Eventually(t, 20*time.Second, "the nodes agree on the owner of "+room, func() bool {
		owner = nil
		name := ps[0].owner(room)
		for _, p := range ps {
			if p.owner(room) != name {
				return false
			}
			if p.Name == name {
				owner = p
			}
		}
		return owner != nil
	})
	return owner
}
