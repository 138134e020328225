package postgres_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/node/store/postgres/pgtest"
	"github.com/roomring/roomring/test/socketio/sioagent"
)

// clusterMember is a node of a pool joined through join whose durable
// state goes to PostgreSQL at dsn, with a test's quick failure detection.
func clusterMember(t *testing.T, dsn, host, name, adminToken string, join ...string) node.Config {
	cfg := nodeConfig(t, dsn)
	cfg.Listen = host + ":0"
	cfg.NodeName = name
	cfg.Admin.Token = adminToken
	cfg.Cluster.Key = "world-quota-test-passphrase"
	cfg.Cluster.Membership.BindAddr = host + ":0"
	cfg.Cluster.Membership.Join = join
	cfg.Cluster.Membership.ProbeInterval = 300 * time.Millisecond
	cfg.Cluster.Membership.ProbeTimeout = 200 * time.Millisecond
	cfg.Cluster.Membership.GossipInterval = 50 * time.Millisecond
	cfg.Cluster.Membership.JoinRetryInterval = 200 * time.Millisecond
	cfg.Cluster.Peer.ListenAddr = host + ":0"
	cfg.Cluster.Peer.ReconnectMin = 20 * time.Millisecond
	cfg.Cluster.Peer.ReconnectMax = 200 * time.Millisecond
	return cfg
}

// startPair starts a pool of two members on one database (hosts and
// names in order; the second joins the first) and waits until each sees
// both.
func startPair(t *testing.T, dsn, adminToken string, hosts, names [2]string) (a, b *nodetest.Node) {
	t.Helper()
	a = nodetest.Start(t, clusterMember(t, dsn, hosts[0], names[0], adminToken))
	b = nodetest.Start(t, clusterMember(t, dsn, hosts[1], names[1], adminToken, a.Cluster().GossipAddr()))
	for _, n := range []*nodetest.Node{a, b} {
		testkit.Eventually(t, 20*time.Second, n.Cluster().Name()+" sees both", func() bool {
			return slices.Equal(n.Cluster().Placement().Members(), names[:])
		})
	}
	return a, b
}

// TestWorldReactionQuotaInAPool: in a pool of two nodes on one PostgreSQL,
// writes reach each room's owner through the other node too (the world
// travels with them on the cluster wire); the world's quota holds for the
// rows both owners write, and real socket.io-clients on either node get
// 403 beyond it.
//
// Long: one scenario across a pool, step by step.
func TestWorldReactionQuotaInAPool(t *testing.T) {
	const adminToken = "world-quota-pool-admin-token-01"
	dsn := pgtest.DB(t)
	a, b := startPair(t, dsn, adminToken, [2]string{"127.0.0.34", "127.0.0.35"}, [2]string{"wq-a", "wq-b"})
	nodes := []*nodetest.Node{a, b}
	key := bytes.Repeat([]byte("p"), 32)
	spec := nodetest.WorldSpec("Expo", map[string]v1alpha1.TraitEntries{"viewer": {}})
	spec.Quotas.ResourceReactions = 3
	nodetest.PutWorld(t, a.Addr(), adminToken, "expo", spec, key)
	admin := nodetest.AdminClient(t, adminToken, a.Addr())
	owned := map[string]string{} // owner → a room of expo it owns
	for i := 0; len(owned) < 2; i++ {
		if i == 32 {
			t.Fatalf("32 rooms, owners %v: want a room on each node", owned)
		}
		room := fmt.Sprint("hall-", i)
		if _, err := admin.PutRoom(t.Context(), room, &v1alpha1.RoomSpec{World: "expo", DisplayName: room}); err != nil {
			t.Fatal(err)
		}
		if o := a.Cluster().Placement().Owner(room); owned[o] == "" {
			owned[o] = room
		}
	}
	for _, n := range nodes {
		testkit.Eventually(t, 10*time.Second, n.Cluster().Name()+" serves expo's rooms", func() bool {
			w := n.Catalog().World("expo")
			return w != nil && w.Quotas.ResourceReactions == 3 && n.Catalog().Exists(owned["wq-a"]) && n.Catalog().Exists(owned["wq-b"]) &&
				n.Cluster().Placement().Owner(owned["wq-a"]) == "wq-a" && n.Cluster().Placement().Owner(owned["wq-b"]) == "wq-b"
		})
	}
	agent := sioagent.StartOrSkip(t)
	var clients []*sioagent.Client
	for i, n := range nodes {
		c := agent.Connect(t, sioagent.ClientConfig{Name: fmt.Sprint("pool", i), Version: 2 + 2*i, URL: "http://" + n.Addr(),
			Query:  map[string]string{"sessionId": nodetest.TokenFor(t, key, fmt.Sprint("member", i)), "world": "expo"},
			Events: []string{"user_info"}})
		c.Event("user_info")
		for _, room := range owned {
			c.CallOK("room:join", valuCall(map[string]any{"room": room}))
		}
		clients = append(clients, c)
	}
	// set writes through node i into the room node owner owns.
	expect := func(i int, owner, res, reaction string, want int) {
		t.Helper()
		got := clients[i].Call("resource:setReaction", valuCall(map[string]any{"resource": res, "room": owned[owner], "reaction": reaction})).Error.Code
		if got != want {
			t.Fatalf("set %s %s through node %d into %s's room: code %d, want %d", res, reaction, i, owner, got, want)
		}
	}
	expect(0, "wq-b", "r1", "👍", 0) // forwarded to b
	expect(1, "wq-a", "r2", "👍", 0) // forwarded to a
	expect(0, "wq-a", "r3", "👍", 0) // a's own
	expect(1, "wq-b", "r4", "👍", 403)
	expect(0, "wq-b", "r4", "👍", 403)
	expect(1, "wq-a", "r4", "👍", 403)
	expect(0, "wq-b", "r1", "❤️", 0) // a replacement adds nothing
	clients[1].CallOK("resource:deleteReaction", valuCall(map[string]any{"resource": "r2", "room": owned["wq-a"]}))
	expect(1, "wq-b", "r5", "👍", 0)
	expect(0, "wq-a", "r6", "👍", 403)
	if n := query[int32](t, dsn, "SELECT reactions FROM roomring_resource_reaction_worlds WHERE world = 'expo'"); len(n) != 1 || n[0] != 3 {
		t.Fatalf("expo's count in PostgreSQL = %v, want [3]", n)
	}
}
