package reaction_test

import (
	"slices"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
)

// poolMember is a dev node on host in a pool joined through join, with the
// quotas of startQuotaNode and a test's quick failure detection.
func poolMember(t *testing.T, host, name string, join ...string) node.Config {
	cfg := nodetest.Config(t, "")
	cfg.Listen = host + ":0"
	cfg.NodeName = name
	cfg.Cluster.Key = "reaction-quota-test-passphrase"
	cfg.Cluster.Membership.BindAddr = host + ":0"
	cfg.Cluster.Membership.Join = join
	cfg.AllowNodeLocalStore = true // each test node on its own bbolt file
	cfg.Cluster.Membership.ProbeInterval = 300 * time.Millisecond
	cfg.Cluster.Membership.ProbeTimeout = 200 * time.Millisecond
	cfg.Cluster.Membership.GossipInterval = 50 * time.Millisecond
	cfg.Cluster.Membership.JoinRetryInterval = 200 * time.Millisecond
	cfg.Cluster.Peer.ListenAddr = host + ":0"
	cfg.Cluster.Peer.ReconnectMin = 20 * time.Millisecond
	cfg.Cluster.Peer.ReconnectMax = 200 * time.Millisecond
	cfg.Reactions.MaxPerUser, cfg.Reactions.MaxTargets = 30, 100
	cfg.Reactions.WriteRate, cfg.Reactions.WriteBurst = 50, 10
	// The connection's own rate limit is not under test: every write must
	// reach the owner's quota and write rate (a write over the session's
	// limit beyond its bounded answers gets no reply at all).
	cfg.Session.RateLimit, cfg.Session.RateBurst = 100000, 100000
	return cfg
}

// TestQuotaHoldsInAPool: a guest writing to one room through both nodes of
// a pool gets one quota and one write rate — the room's owner's — and the
// rows stored on the pool stay at the quota.
func TestQuotaHoldsInAPool(t *testing.T) {
	a := nodetest.Start(t, poolMember(t, "127.0.0.20", "quota-a"))
	b := nodetest.Start(t, poolMember(t, "127.0.0.21", "quota-b", a.Cluster().GossipAddr()))
	for _, n := range []*nodetest.Node{a, b} {
		testkit.Eventually(t, 20*time.Second, n.Cluster().Name()+" sees both", func() bool {
			return slices.Equal(n.Cluster().Placement().Members(), []string{"quota-a", "quota-b"})
		})
	}
	var conns []*nodetest.Client
	var eveID string
	for _, n := range []*nodetest.Node{a, b, a, b} {
		c, id := login(t, n, "eve")
		if eveID != "" && id != eveID {
			t.Fatalf("the guest is %s on one node and %s on the other", eveID, id)
		}
		conns, eveID = append(conns, c), id
	}
	codes := flood(t, conns, "spam", 60)
	if codes["ok"] > 30 || codes["ok"]+codes["protocol.rate_limited"]+codes["resource.quota_exceeded"] != 240 {
		t.Fatalf("flood replies %v: want at most 30 stored in the pool", codes)
	}
	stored := codes["ok"] + untilQuota(t, conns[1], "more-b")
	if stored != 30 {
		t.Fatalf("%d writes stored through both nodes, want the quota, 30", stored)
	}
	// Over the quota through either node; a canary still writes.
	// (The write rate answers first while the bucket is empty after the
	// writes above; the quota once a token is back.)
	var code string
	testkit.Eventually(t, 5*time.Second, "a write through the other node past the write rate", func() bool {
		code = conns[0].CallErr("resource.reaction.set", map[string]any{"room": "room_1", "resource": "one-more", "reaction": "👍"})
		return code != "protocol.rate_limited"
	})
	if code != "resource.quota_exceeded" {
		t.Fatalf("through the other node: %s, want resource.quota_exceeded", code)
	}
	canary, _ := login(t, b, "canary")
	canary.Call("resource.reaction.set", map[string]any{"room": "room_1", "resource": "talk-1", "reaction": "👍"})

	// The rows are in the owner's store (node-local bbolt files here).
	a.Stop(t)
	b.Stop(t)
	rows := 0
	for _, n := range []*nodetest.Node{a, b} {
		_, eve := storedRows(t, n.DataDir(), eveID)
		rows += eve
	}
	if rows != 30 {
		t.Fatalf("the pool's stores hold %d of eve's rows, want 30", rows)
	}
}
