package cluster_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/cluster/ring"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/node/nodetest/nodeproc"
)

// ownedBy returns a room of the world (creating rooms with admin if none
// fits) that the ring over members places on owner.
func ownedBy(t *testing.T, admin *nodetest.Client, members []string, owner string, except ...string) string {
	t.Helper()
	r, err := ring.New(ring.DefaultConfig(), members)
	if err != nil {
		t.Fatal(err)
	}
	var list []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(admin.Call("room.config.list", nil), &list); err != nil {
		t.Fatal(err)
	}
	for _, rm := range list {
		if r.Owner(rm.ID) == owner && !slices.Contains(except, rm.ID) {
			return rm.ID
		}
	}
	for i := range 50 {
		var created struct {
			Room string `json:"room"`
		}
		if err := json.Unmarshal(admin.Call("room.create", map[string]any{"name": fmt.Sprintf("Placed %d", i)}), &created); err != nil {
			t.Fatal(err)
		}
		if r.Owner(created.Room) == owner {
			return created.Room
		}
	}
	t.Fatalf("no room placed on %s", owner)
	return ""
}

// TestOwnerKilled: SIGKILL the node that owns a room. The room is re-owned
// by a survivor, its viewer set is rebuilt from the surviving nodes, the
// dead node's users leave the rooms other nodes own, and the surviving
// clients keep their sessions and get the next room.reaction.
func TestOwnerKilled(t *testing.T) {
	p0 := startProc(t, "127.0.0.2", "node-0")
	p1 := startProc(t, "127.0.0.3", "node-1", p0.Gossip)
	p2 := startProc(t, "127.0.0.4", "node-2", p0.Gossip)
	nodeproc.WaitMembers(t, 3, p0, p1, p2)

	admin := nodetest.Login(t, p0.URL(), "admin-1", "admin")
	all := []string{"node-0", "node-1", "node-2"}
	doomed := ownedBy(t, admin, all, "node-2")   // owned by the node we kill
	survivor := ownedBy(t, admin, all, "node-0") // owned by a node that lives
	t.Logf("killing node-2, owner of %s; node-0 owns %s", doomed, survivor)

	alice := nodetest.Login(t, p0.URL(), "alice", "moderator")
	bob := nodetest.Login(t, p1.URL(), "bob", "moderator")
	carol := nodetest.Login(t, p2.URL(), "carol", "moderator")
	for _, c := range []*nodetest.Client{alice, bob, carol} {
		enter(t, c, doomed)
		enter(t, c, survivor)
	}
	if got := enter(t, nodetest.Login(t, p1.URL(), "check", "moderator"), doomed); !slices.Equal(got, []string{"alice", "bob", "carol", "check"}) {
		t.Fatalf("before the kill %s has %v", doomed, got)
	}

	p2.Kill()
	if err := carol.Closed(5 * time.Second); err == nil {
		t.Fatal("carol's socket survived its node")
	}
	nodeproc.WaitMembers(t, 2, p0, p1)

	// Carol leaves both rooms in everyone's eyes: node-0, which owns
	// survivor, drops the dead edge's users from it; doomed's new owner
	// never knew carol, and its viewer snapshot tells the edges she is gone.
	for _, c := range []*nodetest.Client{alice, bob} {
		c.Wait(10*time.Second, "carol removed from one room", viewerEvent("room.viewer.removed", "carol"))
		c.Wait(10*time.Second, "carol removed from the other", viewerEvent("room.viewer.removed", "carol"))
	}
	alice.None(300*time.Millisecond, "more removals", viewerEvent("room.viewer.removed", "carol"))

	// The doomed room has a new owner whose viewer set holds the survivors'
	// users only: alice, bob and check.
	newOwner, err := ring.New(ring.DefaultConfig(), all[:2])
	if err != nil {
		t.Fatal(err)
	}
	owner := map[string]*nodeproc.Member{"node-0": p0, "node-1": p1}[newOwner.Owner(doomed)]
	t.Logf("%s re-owned by %s", doomed, owner.Name)
	testkit.Eventually(t, 10*time.Second, "viewer set of "+doomed+" rebuilt", func() bool {
		// survivor's three (alice, bob, check is not in it) + doomed's three
		// when both rooms are on node-0; count only what the new owner holds.
		want := 3.0
		if owner == p0 {
			want += 2 // survivor: alice, bob
		}
		return owner.Metric("roomring_viewers") == want
	})
	if got := enter(t, nodetest.Login(t, p0.URL(), "dave", "moderator"), doomed); !slices.Equal(got, []string{"alice", "bob", "check", "dave"}) {
		t.Fatalf("after the kill %s has %v", doomed, got)
	}

	// The surviving sessions are intact and hear the room's next reactions.
	alice.Call("room.react", map[string]any{"room": doomed, "reaction": "👍"})
	bob.Call("room.react", map[string]any{"room": doomed, "reaction": "👍"})
	reactionCounts(t, alice, doomed, "👍", 2)
	reactionCounts(t, bob, doomed, "👍", 2)
}
