package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/nodetest"
)

// createRooms adds n rooms through the catalog of node (replicated like any
// other write) and waits until every node has them.
func createRooms(t *testing.T, nodes []*nodetest.Node, n int) []string {
	t.Helper()
	// Fixed ids (and fixed member names) make the ring's placement of the
	// rooms the same on every run, so tests that need a node to own some of
	// them do not depend on random room ids.
	var ids []string
	for i := range n {
		r := &catalog.Room{ID: fmt.Sprintf("ring-room-%02d", i), Name: fmt.Sprintf("Room %02d", i), ShowViewers: true}
		if err := nodes[0].Catalog().Upsert(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	for _, nd := range nodes {
		testkit.Eventually(t, 10*time.Second, "rooms replicated to "+nd.Cluster().Name(), func() bool {
			for _, id := range ids {
				if !nd.Catalog().Exists(id) {
					return false
				}
			}
			return true
		})
	}
	return ids
}

// TestJoiningNodeTakesOverWithoutLosingMembers: a third node joins two that
// hold members in many rooms; it becomes the owner of its share, rebuilt
// from the edges' announcements, and clients notice nothing.
func TestJoiningNodeTakesOverWithoutLosingMembers(t *testing.T) {
	nodes := startCluster(t, 2)
	rooms := createRooms(t, nodes, 12)
	alice := nodetest.Login(t, nodes[0].URL(), "alice", "moderator")
	bob := nodetest.Login(t, nodes[1].URL(), "bob", "moderator")
	for _, id := range rooms {
		enter(t, alice, id)
		enter(t, bob, id)
	}
	for range rooms {
		alice.Wait(5*time.Second, "bob added", viewerEvent("room.viewer.added", "bob"))
	}

	third := nodetest.Start(t, memberConfig(t, "127.0.0.4", "node-2", testKey, nodes[0].Cluster().GossipAddr()))
	nodes = append(nodes, third)
	waitMembers(t, nodes...)
	var moved []string
	for _, id := range rooms {
		if third.Cluster().Placement().Owner(id) == "node-2" {
			moved = append(moved, id)
		}
	}
	if len(moved) == 0 {
		t.Fatal("the new node owns none of the rooms")
	}
	t.Logf("node-2 took over %d of %d rooms", len(moved), len(rooms))
	// The new owner rebuilt every moved room from the two edges.
	for _, id := range moved {
		testkit.Eventually(t, 10*time.Second, "viewers of "+id+" rebuilt on node-2", func() bool { return third.Cluster().Local().Rooms().Viewers(id) == 2 })
	}
	// The clients, who heard of everyone from the old owners, hear nothing
	// new: no second viewer.added, no removal (snapshots imply nothing).
	alice.None(time.Second, "viewer events after the takeover", func(f nodetest.Frame) bool {
		return f.Kind() == "room.viewer.added" || f.Kind() == "room.viewer.removed"
	})
	// A client of the new node sees the members; the old ones see it.
	carol := nodetest.Login(t, third.URL(), "carol", "moderator")
	for _, id := range moved {
		if got := enter(t, carol, id); !slices.Equal(got, []string{"alice", "bob", "carol"}) {
			t.Fatalf("carol entered %s and sees %v", id, got)
		}
	}
	for range moved { // viewer events do not name the room: one per room
		alice.Wait(5*time.Second, "carol added", viewerEvent("room.viewer.added", "carol"))
	}
	// Reactions in a moved room reach everyone through its new owner.
	id := moved[0]
	alice.Call("room.react", map[string]any{"room": id, "reaction": "👏"})
	bob.Call("room.react", map[string]any{"room": id, "reaction": "👏"})
	for _, c := range []*nodetest.Client{alice, bob, carol} {
		reactionCounts(t, c, id, "👏", 2)
	}
	// The old owners keep no state of the rooms they gave up.
	for _, nd := range nodes[:2] {
		for _, m := range moved {
			if nd.Cluster().Local().Rooms().Viewers(m) != 0 {
				t.Fatalf("%s still holds viewers of %s", nd.Cluster().Name(), m)
			}
		}
	}
}

// TestGracefulLeave: a node shutting down hands its rooms over, closes its
// clients' sockets with 1012, and the others carry on.
func TestGracefulLeave(t *testing.T) {
	nodes := startCluster(t, 3)
	rooms := createRooms(t, nodes, 9)
	leaving := nodes[2]
	var owned []string
	for _, id := range rooms {
		if leaving.Cluster().Placement().Owner(id) == "node-2" {
			owned = append(owned, id)
		}
	}
	if len(owned) == 0 {
		t.Fatal("node-2 owns none of the rooms")
	}
	id := owned[0]
	alice := nodetest.Login(t, nodes[0].URL(), "alice", "moderator")
	bob := nodetest.Login(t, nodes[1].URL(), "bob", "moderator")
	carol := nodetest.Login(t, leaving.URL(), "carol", "moderator")
	for _, c := range []*nodetest.Client{alice, bob, carol} {
		enter(t, c, id)
	}
	alice.Wait(5*time.Second, "carol added", viewerEvent("room.viewer.added", "carol"))

	leaving.Stop(t)
	var ce *websocket.CloseError
	if err := carol.Closed(10 * time.Second); !errors.As(err, &ce) || ce.Code != websocket.CloseServiceRestart {
		t.Fatalf("carol's socket closed with %v, want 1012", err)
	}
	waitMembers(t, nodes[:2]...)
	// Carol's removal is published before the room moves.
	alice.Wait(5*time.Second, "carol removed", viewerEvent("room.viewer.removed", "carol"))
	bob.Wait(5*time.Second, "carol removed", viewerEvent("room.viewer.removed", "carol"))
	// The room has a new owner, rebuilt from alice's and bob's nodes.
	newOwner := nodes[0].Cluster().Placement().Owner(id)
	if newOwner == "node-2" || newOwner == "" {
		t.Fatalf("room still owned by %q", newOwner)
	}
	// Carol reconnects elsewhere, as a client behind a load balancer does.
	// Entering while the new owner still rebuilds the room, she may miss a
	// viewer in the reply; the owner's viewer snapshot then adds it.
	carol = nodetest.Login(t, nodes[1].URL(), "carol", "moderator")
	got := enter(t, carol, id)
	for _, want := range []string{"alice", "bob"} {
		if !slices.Contains(got, want) {
			carol.Wait(5*time.Second, want+" added after the rebuild", viewerEvent("room.viewer.added", want))
		}
	}
	alice.Call("room.react", map[string]any{"room": id, "reaction": "❤️"})
	for _, c := range []*nodetest.Client{alice, bob, carol} {
		reactionCounts(t, c, id, "❤️", 1)
	}
}

// TestWrongKeyIsRejected: a node with another cluster key can neither join
// nor send anything to the cluster.
func TestWrongKeyIsRejected(t *testing.T) {
	nodes := startCluster(t, 2)
	evil := nodetest.Start(t, memberConfig(t, "127.0.0.9", "node-evil", "not-the-cluster-key", nodes[0].Cluster().GossipAddr()))
	// Give it several join attempts (every 200ms) before checking.
	testkit.Consistently(t, 2*time.Second, "the wrong key is kept out", func() error {
		for _, n := range nodes {
			if slices.Contains(n.Cluster().Placement().Members(), "node-evil") {
				return fmt.Errorf("%s accepted the node with the wrong key", n.Cluster().Name())
			}
		}
		if got := evil.Cluster().Placement().Members(); !slices.Equal(got, []string{"node-evil"}) {
			return fmt.Errorf("the node with the wrong key sees %v", got)
		}
		return nil
	})
	// It never joined, so it is not ready to serve; the members are.
	if evil.Cluster().Ready() || httpStatus(t, "http://"+evil.Addr()+"/readyz") != http.StatusServiceUnavailable {
		t.Fatal("the node with the wrong key reports ready")
	}
	if httpStatus(t, "http://"+nodes[0].Addr()+"/readyz") != http.StatusOK {
		t.Fatal("a member is not ready")
	}
	// Its catalog writes stay its own: a write made after it on a member
	// crosses the cluster, the intruder's does not.
	if _, err := evil.Catalog().Create(context.Background(), catalog.CreateRequest{Name: "Intruder"}); err != nil {
		t.Fatal(err)
	}
	createRooms(t, nodes, 1)
	for _, n := range nodes {
		for _, r := range n.Catalog().List() {
			if strings.Contains(r.Name, "Intruder") {
				t.Fatalf("%s got the intruder's room", n.Cluster().Name())
			}
		}
	}
}

// TestLargeCatalogRecordIsSent: a record too big for a gossip packet
// travels over the peer link (itself, not a fetch of the whole catalog).
func TestLargeCatalogRecordIsSent(t *testing.T) {
	nodes := startCluster(t, 2)
	desc := strings.Repeat("A long description. ", 90) // ~1.8 KB, over the gossip limit
	if _, err := nodes[1].Catalog().Patch(context.Background(), "room_1", map[string]json.RawMessage{
		"description": json.RawMessage(fmt.Sprintf("%q", desc)),
	}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "large record on node-0", func() bool { return nodes[0].Catalog().Get("room_1").Description == desc })
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}
