package cluster_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/node/nodetest/nodeproc"
)

// occupancy is the users field of room in the world.config that a new
// guest connection to the venueless endpoint url reads.
func occupancy(t *testing.T, url, room string) string {
	t.Helper()
	c := nodetest.Dial(t, url)
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
		if u := occupancy(t, n.URL(), room); u != "many" {
			t.Fatalf("world.config on node-%d: users %q, want many", i, u)
		}
	}

	// A fourth node joins: the room's owner (old or new) tells it.
	late := nodetest.Start(t, memberConfig(t, "127.0.0.5", "node-3", testKey, nodes[0].Cluster().GossipAddr()))
	waitMembers(t, append(nodes, late)...)
	testkit.Eventually(t, 10*time.Second, "the late node to learn the room's occupancy", func() bool {
		return occupancy(t, late.URL(), room) == "many"
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

// TestUserCountOwnerKilled: SIGKILL the owner of a busy room whose users
// were all on it: the room's new owner tells the survivors it is empty.
func TestUserCountOwnerKilled(t *testing.T) {
	p0 := startProc(t, "127.0.0.2", "node-0")
	p1 := startProc(t, "127.0.0.3", "node-1", p0.Gossip)
	p2 := startProc(t, "127.0.0.4", "node-2", p0.Gossip)
	nodeproc.WaitMembers(t, 3, p0, p1, p2)
	admin := nodetest.Login(t, p0.URL(), "admin-1", "admin")
	room := ownedBy(t, admin, []string{"node-0", "node-1", "node-2"}, "node-2")
	watcher := nodetest.Dial(t, p1.URL())
	watcher.Auth(map[string]any{"client_id": "watcher"})
	for i := range 11 {
		c := nodetest.Dial(t, p2.URL())
		c.Auth(map[string]any{"client_id": fmt.Sprintf("doomed-%d", i)})
		c.Call("room.enter", map[string]any{"room": room})
	}
	if got := []string{nextCount(t, watcher, room), nextCount(t, watcher, room)}; got[0] != "few" || got[1] != "many" {
		t.Fatalf("watcher heard %v, want [few many]", got)
	}
	p2.Kill()
	nodeproc.WaitMembers(t, 2, p0, p1)
	if u := nextCount(t, watcher, room); u != "none" {
		t.Fatalf("after the owner died with every user: %q, want none", u)
	}
	for _, p := range []*nodeproc.Member{p0, p1} {
		if u := occupancy(t, p.URL(), room); u != "none" {
			t.Fatalf("world.config on %s: %q, want none", p.Name, u)
		}
	}
}
