package cluster_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
)

// TestVenuelessAcrossNodes runs the venueless room actions with clients
// spread over three nodes, and checks each client sees what it would see
// if all were on one node.
//
// Long: one scenario of every room action across three nodes, in the order
// a user would take them.
func TestVenuelessAcrossNodes(t *testing.T) {
	nodes := startCluster(t, 3)
	const room = "room_1"
	owner := nodes[0].Cluster().Placement().Owner(room)
	for _, n := range nodes {
		if o := n.Cluster().Placement().Owner(room); o != owner {
			t.Fatalf("%s thinks %s owns %s, node-0 thinks %s", n.Cluster().Name(), o, room, owner)
		}
	}
	t.Logf("%s is owned by %s", room, owner)

	alice := nodetest.Login(t, nodes[0].URL(), "alice", "moderator")
	bob := nodetest.Login(t, nodes[1].URL(), "bob", "moderator")
	carol := nodetest.Login(t, nodes[2].URL(), "carol")

	// Enter: the owner's viewer list, viewer.added to the others.
	if got := enter(t, alice, room); !slices.Equal(got, []string{"alice"}) {
		t.Fatalf("alice entered and sees %v", got)
	}
	if got := enter(t, bob, room); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Fatalf("bob entered and sees %v", got)
	}
	alice.Wait(5*time.Second, "bob added", viewerEvent("room.viewer.added", "bob"))
	carol.Call("room.enter", map[string]any{"room": room}) // no room:viewers: no list
	alice.Wait(5*time.Second, "carol added", viewerEvent("room.viewer.added", "carol"))
	bob.Wait(5*time.Second, "carol added", viewerEvent("room.viewer.added", "carol"))

	// A user with sockets on two nodes is one viewer.
	alice2 := nodetest.Login(t, nodes[2].URL(), "alice", "moderator")
	if got := enter(t, alice2, room); !slices.Equal(got, []string{"alice", "bob", "carol"}) {
		t.Fatalf("alice's second socket sees %v", got)
	}
	bob.None(300*time.Millisecond, "a second viewer.added for alice", viewerEvent("room.viewer.added", "alice"))
	alice2.Close()
	bob.None(300*time.Millisecond, "viewer.removed while alice is still in", viewerEvent("room.viewer.removed", "alice"))

	// Reactions from three nodes are counted by the owner and broadcast as
	// room.reaction to everyone, about once a second. Reactions sent at
	// once land in one window unless a window boundary falls between
	// them; then the next emoji is tried (a user's repeat of the same one
	// would be debounced).
	aggregated := false
	for _, emoji := range []string{"👏", "❤️", "👍", "🤣", "😮"} {
		for _, c := range []*nodetest.Client{alice, bob, carol} {
			c.Call("room.react", map[string]any{"room": room, "reaction": emoji})
		}
		got := reactionCounts(t, alice, room, emoji, 3)
		reactionCounts(t, bob, room, emoji, 3)
		reactionCounts(t, carol, room, emoji, 3)
		if slices.Equal(got, []int{3}) {
			aggregated = true
			break
		}
		t.Logf("%s straddled a window: %v", emoji, got)
	}
	if !aggregated {
		t.Fatal("reactions from three nodes never arrived as one room.reaction")
	}

	// Schedule: announced by the owner to the room's members everywhere.
	alice.Call("room.schedule", map[string]any{"room": room, "schedule_data": map[string]any{"title": "Keynote"}})
	for _, c := range []*nodetest.Client{alice, bob, carol} {
		f := c.Wait(5*time.Second, "room.schedule", kindRoom("room.schedule", room))
		var d struct {
			ScheduleData map[string]any `json:"schedule_data"`
		}
		f.Decode(t, 1, &d)
		if d.ScheduleData["title"] != "Keynote" {
			t.Fatalf("room.schedule carried %v", d.ScheduleData)
		}
	}
	// ... and stored in the catalog of every node: a new client anywhere
	// sees it in world.config.
	for _, n := range nodes {
		testkit.Eventually(t, 10*time.Second, "schedule replicated", func() bool {
			return n.Catalog().Get(room).ScheduleData["title"] == "Keynote"
		})
	}

	// Resource reactions are written by the room's owner, which announces
	// them to the room's members on every node.
	bob.Call("resource.reaction.set", map[string]any{"room": room, "resource": "talk-1", "reaction": "🎉"})
	for _, c := range []*nodetest.Client{alice, bob, carol} {
		f := c.Wait(5*time.Second, "resource.reaction.updated", kindRoom("resource.reaction.updated", room))
		var d struct {
			Resource, Reaction string
			User               struct{ ID string }
		}
		f.Decode(t, 1, &d)
		if d.Resource != "talk-1" || d.Reaction != "🎉" || d.User.ID != "bob" {
			t.Fatalf("resource.reaction.updated = %s", f)
		}
	}

	// The operator's view of the pool: any node answers for any room.
	for _, n := range nodes {
		if got, err := n.Cluster().Pool().Viewers(t.Context(), room); err != nil || got != 3 {
			t.Fatalf("%s counts %d viewers (%v), want 3", n.Cluster().Name(), got, err)
		}
		if len(n.Cluster().Pool().Members()) != 3 || n.Cluster().Pool().Owner(room) != owner {
			t.Fatalf("%s's pool view: members %v, owner %s", n.Cluster().Name(), n.Cluster().Pool().Members(), n.Cluster().Pool().Owner(room))
		}
	}

	// Leaving: viewer.removed on every node.
	carol.Call("room.leave", map[string]any{"room": room})
	alice.Wait(5*time.Second, "carol removed", viewerEvent("room.viewer.removed", "carol"))
	bob.Wait(5*time.Second, "carol removed", viewerEvent("room.viewer.removed", "carol"))
	// A disconnect is a leave too.
	bob.Close()
	alice.Wait(5*time.Second, "bob removed", viewerEvent("room.viewer.removed", "bob"))
	if got := enter(t, nodetest.Login(t, nodes[1].URL(), "dave", "moderator"), room); !slices.Equal(got, []string{"alice", "dave"}) {
		t.Fatalf("after leaves, dave sees %v", got)
	}
}

// TestCatalogAcrossNodes checks that room configuration changes made on any
// node reach every node, and every node's clients hear of them.
//
// Long: one scenario of catalog changes on one node seen on the others, in
// order.
func TestCatalogAcrossNodes(t *testing.T) {
	nodes := startCluster(t, 3)
	var clients []*nodetest.Client
	for i, n := range nodes {
		clients = append(clients, nodetest.Login(t, n.URL(), "admin-"+string(rune('a'+i)), "admin"))
	}

	// Create on node-1: room.create reaches the clients of every node.
	var created struct {
		Room string `json:"room"`
	}
	if err := json.Unmarshal(clients[1].Call("room.create", map[string]any{"name": "Breakout"}), &created); err != nil {
		t.Fatal(err)
	}
	id := created.Room
	for _, c := range clients {
		f := c.Wait(10*time.Second, "room.create", kindRoom("room.create", id))
		var d struct {
			Name string `json:"name"`
		}
		f.Decode(t, 1, &d)
		if d.Name != "Breakout" {
			t.Fatalf("room.create = %s", f)
		}
	}
	// The new room works from any node: its owner is wherever the ring says.
	for _, c := range clients {
		c.Call("room.enter", map[string]any{"room": id})
	}

	// Patch on node-2: every client gets a new world config with the name.
	clients[2].Call("room.config.patch", map[string]any{"room": id, "name": "Breakout A", "description": "small groups"})
	for _, c := range clients {
		testkit.Eventually(t, 10*time.Second, "world.updated with the new name", func() bool {
			return c.Has(func(f nodetest.Frame) bool {
				return f.Kind() == "world.updated" && len(f) == 2 && strings.Contains(string(f[1]), `"Breakout A"`)
			})
		})
	}

	// Reorder on node-0: the order converges everywhere.
	var all []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(clients[0].Call("room.config.list", nil), &all); err != nil {
		t.Fatal(err)
	}
	ids := []string{id}
	for _, r := range all {
		if r.ID != id {
			ids = append(ids, r.ID)
		}
	}
	slices.Reverse(ids[1:])
	clients[0].Call("room.config.reorder", ids)
	for i, n := range nodes {
		testkit.Eventually(t, 10*time.Second, "reorder on node "+n.Cluster().Name(), func() bool {
			var got []string
			for _, r := range n.Catalog().List() {
				got = append(got, r.ID)
			}
			return slices.Equal(got, ids)
		})
		if i > 0 {
			clients[i].Wait(10*time.Second, "world.updated after reorder", func(f nodetest.Frame) bool { return f.Kind() == "world.updated" })
		}
	}
	for i, c := range clients {
		var list []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(c.Call("room.config.list", nil), &list); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range list {
			got = append(got, r.ID)
		}
		if !slices.Equal(got, ids) {
			t.Fatalf("room.config.list on node-%d = %v, want %v", i, got, ids)
		}
	}

	// Delete on node-1: room.delete everywhere, and the room is gone.
	clients[1].Call("room.delete", map[string]any{"room": id})
	for _, c := range clients {
		c.Wait(10*time.Second, "room.delete", kindRoom("room.delete", id))
	}
	for _, n := range nodes {
		testkit.Eventually(t, 10*time.Second, "room gone on "+n.Cluster().Name(), func() bool { return !n.Catalog().Exists(id) })
	}
	if code := clients[2].CallErr("room.enter", map[string]any{"room": id}); code != "room.unknown" {
		t.Fatalf("entering the deleted room: %s", code)
	}
}
