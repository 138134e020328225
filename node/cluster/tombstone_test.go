package cluster_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/nodetest"
)

// TestReturningNodeDoesNotResurrectCollectedRoom: node-b is down while a
// room is deleted on node-a and the room's tombstone is collected (a short
// --catalog-tombstone-ttl) on node-a and node-c. node-b comes back with its
// old catalog, which holds the room: neither takes the room back, they
// delete it again, and node-b drops it. (node-c is there so that the
// deletion's gossip leaves node-a's broadcast queue before node-b is back:
// a node alone keeps it queued, and would hand it to node-b on its return.)
func TestReturningNodeDoesNotResurrectCollectedRoom(t *testing.T) {
	gc := func(cfg *node.Config) {
		cfg.Catalog = catalog.Config{TombstoneTTL: time.Second, GCInterval: 100 * time.Millisecond}
	}
	cfgA := memberConfig(t, "127.0.0.2", "node-a", testKey)
	gc(&cfgA)
	a := nodetest.Start(t, cfgA)
	cfgB := memberConfig(t, "127.0.0.3", "node-b", testKey, a.Cluster().GossipAddr())
	gc(&cfgB)
	b := nodetest.Start(t, cfgB)
	cfgC := memberConfig(t, "127.0.0.4", "node-c", testKey, a.Cluster().GossipAddr())
	gc(&cfgC)
	c := nodetest.Start(t, cfgC)
	waitMembers(t, a, b, c)

	admin := nodetest.Login(t, a.URL(), "admin", "admin")
	var created struct {
		Room string `json:"room"`
	}
	if err := json.Unmarshal(admin.Call("room.create", map[string]any{"name": "Short-lived"}), &created); err != nil {
		t.Fatal(err)
	}
	id := created.Room
	testkit.Eventually(t, 10*time.Second, "the room on node-b", func() bool { return b.Catalog().Exists(id) })
	b.Stop(t)
	waitMembers(t, a, c)

	admin.Call("room.delete", map[string]any{"room": id})
	for _, n := range []*nodetest.Node{a, c} {
		testkit.Eventually(t, 10*time.Second, "the tombstone collected on "+n.Cluster().Name(), func() bool { return len(n.Catalog().Records(id)) == 0 })
	}
	watchers := []*nodetest.Client{nodetest.Login(t, a.URL(), "watcher", "admin"), nodetest.Login(t, c.URL(), "watcher", "admin")}

	cfg := memberConfig(t, "127.0.0.3", "node-b2", testKey, a.Cluster().GossipAddr())
	gc(&cfg)
	cfg.DataDir = cfgB.DataDir
	b = nodetest.Start(t, cfg)
	if !b.Catalog().Exists(id) {
		t.Fatal("node-b's store lost the room: nothing to test")
	}
	waitMembers(t, a, b, c)
	testkit.Eventually(t, 15*time.Second, "the room gone from node-b", func() bool { return !b.Catalog().Exists(id) })
	for i, n := range []*nodetest.Node{a, c} {
		if n.Catalog().Exists(id) {
			t.Fatalf("%s holds the room again", n.Cluster().Name())
		}
		// Had the node applied node-b's copy, its clients would have been told.
		if watchers[i].Has(kindRoom("room.create", id)) {
			t.Fatalf("%s's client was told the deleted room was created", n.Cluster().Name())
		}
	}
	var rooms []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(nodetest.Login(t, b.URL(), "reader", "admin").Call("room.config.list", nil), &rooms); err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms {
		if r.ID == id {
			t.Fatalf("node-b lists the deleted room: %v", rooms)
		}
	}
}
