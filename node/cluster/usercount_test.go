package cluster_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
)

// occupancy is the users field of room in the world.config that a new
// guest connection to n reads.
func occupancy(t *testing.T, n *nodetest.Node, room string) string {
	t.Helper()
	c := nodetest.Dial(t, n.URL())
	defer c.Close()
	var a struct {
		World struct {
			Rooms []struct{ ID, Users string } `json:"rooms"`
		} `json:"world.config"`
	}
	if err := json.Unmarshal(c.Auth(map[string]any{"client_id": "occupancy-reader"}), &a); err != nil {
		t.Fatal(err)
	}
	for _, r := range a.World.Rooms {
		if r.ID == room {
			return r.Users
		}
	}
	return ""
}

// nextCount waits for c's next world.user_count_change of room.
func nextCount(t *testing.T, c *nodetest.Client, room string) string {
	t.Helper()
	f := c.Wait(5*time.Second, "world.user_count_change of "+room, kindRoom("world.user_count_change", room))
	var d struct{ Users string }
	if err := json.Unmarshal(f[1], &d); err != nil {
		t.Fatal(err)
	}
	return d.Users
}

// TestUserCountAcrossNodes: a room's owner publishes its occupancy's
// bucket changes to every node, whose clients hear them whether or not
// they are in the room, and a node that joins later learns the occupancy
// of busy rooms for its world.config.
func TestUserCountAcrossNodes(t *testing.T) {
	nodes := startCluster(t, 3)
	const room = "lounge"
	owner := nodes[0].Cluster().Placement().Owner(room)
	var watchers []*nodetest.Client
	for i, n := range nodes {
		watchers = append(watchers, nodetest.Guest(t, n, fmt.Sprintf("watcher-%d", i)))
	}
	var users []*nodetest.Client
	for i := range 11 { // through every node in turn
		c := nodetest.Guest(t, nodes[i%3], fmt.Sprintf("user-%d", i))
		c.Call("room.enter", map[string]any{"room": room})
		users = append(users, c)
	}
	for i, w := range watchers {
		if got := []string{nextCount(t, w, room), nextCount(t, w, room)}; got[0] != "few" || got[1] != "many" {
			t.Fatalf("watcher on node-%d (owner %s) heard %v, want [few many]", i, owner, got)
		}
	}
	for i, n := range nodes {
		if u := occupancy(t, n, room); u != "many" {
			t.Fatalf("world.config on node-%d: users %q, want many", i, u)
		}
	}

	// A fourth node joins: the room's owner (old or new) tells it.
	late := nodetest.Start(t, memberConfig(t, "127.0.0.5", "node-3", testKey, nodes[0].Cluster().GossipAddr()))
	waitMembers(t, append(nodes, late)...)
	testkit.Eventually(t, 10*time.Second, "the late node to learn the room's occupancy", func() bool {
		return occupancy(t, late, room) == "many"
	})
	lateWatcher := nodetest.Guest(t, late, "watcher-late")
	for _, c := range users {
		c.Close()
	}
	// When the room moved to the new node, its rebuild may end with
	// "many" again (the bucket the new owner found): wait for the
	// changes the leaves make.
	for _, want := range []string{"few", "none"} {
		lateWatcher.Wait(10*time.Second, "users "+want, func(f nodetest.Frame) bool {
			var d struct{ Room, Users string }
			return kindRoom("world.user_count_change", room)(f) && json.Unmarshal(f[1], &d) == nil && d.Users == want
		})
	}
}
