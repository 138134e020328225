package cluster_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
)

const worldsAdminToken = "cluster-worlds-admin-token-0123"

// startAdminCluster is startCluster with the admin API on.
func startAdminCluster(t *testing.T, n int) []*nodetest.Node {
	t.Helper()
	var nodes []*nodetest.Node
	for i := range n {
		var join []string
		if i > 0 {
			join = []string{nodes[0].Cluster().GossipAddr()}
		}
		cfg := memberConfig(t, fmt.Sprintf("127.0.0.%d", i+2), fmt.Sprintf("node-%d", i), testKey, join...)
		cfg.Admin.Token = worldsAdminToken
		nodes = append(nodes, nodetest.Start(t, cfg))
	}
	waitMembers(t, nodes...)
	return nodes
}

// worldServed waits until every node serves world (or, with served
// false, none does).
func worldServed(t *testing.T, world string, served bool, nodes ...*nodetest.Node) {
	t.Helper()
	want := http.StatusOK
	if !served {
		want = http.StatusNotFound
	}
	for _, n := range nodes {
		testkit.Eventually(t, 10*time.Second, fmt.Sprintf("%s: GET world %s is %d", n.Cluster().Name(), world, want), func() bool {
			code, _ := nodetest.AdminDo(t, n.AdminAddr(), worldsAdminToken, http.MethodGet, "worlds/"+world, nil, nil)
			return code == want
		})
	}
}

func roomsOf(t *testing.T, raw []byte) []string {
	t.Helper()
	a := nodetest.Decode[struct {
		World nodetest.WorldConfig `json:"world.config"`
	}](t, raw)
	var ids []string
	for _, r := range a.World.Rooms {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	return ids
}

// TestWorldsAcrossNodes: two worlds with their own keys, grants and rooms
// on a pool of three, put through the admin API of different nodes; each
// world's clients, on any node, see their world only; deleting a world
// disconnects its clients on every node.
//
// Long: one scenario, from putting the worlds to deleting one.
func TestWorldsAcrossNodes(t *testing.T) {
	nodes := startAdminCluster(t, 3)
	expoKey, fairKey := bytes.Repeat([]byte("x"), 32), bytes.Repeat([]byte("f"), 32)
	nodetest.PutWorld(t, nodes[0].AdminAddr(), worldsAdminToken, "expo",
		nodetest.WorldSpec("Expo", map[string]v1alpha1.TraitEntries{"viewer": {}, "admin": {"organizer"}}), expoKey)
	nodetest.PutWorld(t, nodes[1].AdminAddr(), worldsAdminToken, "fair",
		nodetest.WorldSpec("Fair", map[string]v1alpha1.TraitEntries{"viewer": {}}), fairKey)
	worldServed(t, "expo", true, nodes...)
	worldServed(t, "fair", true, nodes...)

	pool := nodetest.AdminClient(t, worldsAdminToken, nodes[0].AdminAddr())
	for room, world := range map[string]string{"expo-hall": "expo", "fair-hall": "fair"} {
		if _, err := pool.PutRoom(t.Context(), room, &v1alpha1.RoomSpec{World: world, DisplayName: room}); err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			testkit.Eventually(t, 10*time.Second, room+" on "+n.Cluster().Name(), func() bool { return n.Catalog().Exists(room) })
		}
	}

	// Each world's token opens its world only, on every node.
	for _, n := range nodes {
		if code := nodetest.Dial(t, nodetest.WorldURL(n.Addr(), "fair")).AuthErr(map[string]any{"token": nodetest.TokenFor(t, expoKey, "eve")}); code != "auth.invalid_token" {
			t.Fatalf("%s: expo's token on fair = %s, want auth.invalid_token", n.Cluster().Name(), code)
		}
	}
	olga := nodetest.Dial(t, nodetest.WorldURL(nodes[2].Addr(), "expo"))
	if got := roomsOf(t, olga.Auth(map[string]any{"token": nodetest.TokenFor(t, expoKey, "olga", "organizer")})); !slices.Equal(got, []string{"expo-hall"}) {
		t.Fatalf("expo's world.config rooms = %v, want [expo-hall]", got)
	}
	otto := nodetest.LoginWorld(t, nodes[0].Addr(), "expo", expoKey, "otto")
	fred := nodetest.Dial(t, nodetest.WorldURL(nodes[1].Addr(), "fair"))
	if got := roomsOf(t, fred.Auth(map[string]any{"token": nodetest.TokenFor(t, fairKey, "fred", "organizer")})); !slices.Equal(got, []string{"fair-hall"}) {
		t.Fatalf("fair's world.config rooms = %v, want [fair-hall]", got)
	}
	if code := fred.CallErr("room.enter", map[string]any{"room": "expo-hall"}); code != "room.unknown" {
		t.Fatalf("fair's client entering expo-hall = %s, want room.unknown", code)
	}
	if code := fred.CallErr("room.create", map[string]any{"name": "x"}); code != "protocol.denied" {
		t.Fatalf("fair's organizer creating a room = %s, want protocol.denied (no grant in fair)", code)
	}
	fred.Call("room.enter", map[string]any{"room": "fair-hall"})

	// A room created, renamed and deleted in expo on node-2 reaches
	// expo's client on node-0, and no client of fair.
	side := nodetest.Decode[struct{ Room string }](t, olga.Call("room.create", map[string]any{"name": "Expo Side Stage"})).Room
	otto.Event("room.create")
	olga.Call("room.config.patch", map[string]any{"room": side, "name": "Expo Side Stage (B)"})
	otto.Event("world.updated")
	olga.Call("room.delete", map[string]any{"room": side})
	otto.Event("room.delete")
	// otto, on a node that is neither, got all three, so fred's node had
	// applied the same catalog records: 300 ms is ample for a push to
	// follow.
	fred.None(300*time.Millisecond, "expo's events on fair", func(f nodetest.Frame) bool {
		return f.Kind() == "room.create" || f.Kind() == "world.updated" || f.Kind() == "room.delete"
	})

	// Deleting expo through node-1 closes its clients on node-0 and node-2.
	if code, e := nodetest.AdminDo(t, nodes[1].AdminAddr(), worldsAdminToken, http.MethodDelete, "worlds/expo", nil, nil); code != http.StatusNoContent {
		t.Fatalf("DELETE expo = %d %+v", code, e)
	}
	for _, c := range []*nodetest.Client{olga, otto} {
		c.Wait(10*time.Second, "world.closed", func(f nodetest.Frame) bool { return f.Kind() == "error" })
		if err := c.Closed(10 * time.Second); err == nil {
			t.Fatal("an expo client's socket ended without an error")
		}
	}
	worldServed(t, "expo", false, nodes...)
	for _, n := range nodes {
		if got := nodetest.DialStatus(t, nodetest.WorldURL(n.Addr(), "expo")); got != http.StatusNotFound {
			t.Fatalf("%s: upgrade at deleted expo = %d, want 404", n.Cluster().Name(), got)
		}
	}
	fred.Call("room.leave", map[string]any{"room": "fair-hall"}) // fair is untouched
}
