package socketio_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/test/socketio/sioagent"
)

// TestWorldReactionQuota: a world's spec.quotas.resourceReactions bounds
// the resource reactions its clients (socket.io-client 2.x and 4.x, one
// node, bbolt) store together: a set that would add one beyond it is acked
// with status 403 and a message naming the world's quota, and nothing is
// stored; replacing and deleting work, and a delete frees one.
func TestWorldReactionQuota(t *testing.T) {
	const adminToken = "socketio-world-quota-token-01"
	n := nodetest.StartWith(t, func(c *node.Config) { c.Admin.Token = adminToken })
	key := bytes.Repeat([]byte("w"), 32)
	spec := nodetest.WorldSpec("Expo", map[string]v1alpha1.TraitEntries{"viewer": {}})
	spec.Quotas.ResourceReactions = 2
	nodetest.PutWorld(t, n.Addr(), adminToken, "expo", spec, key)
	if _, err := nodetest.AdminClient(t, adminToken, n.Addr()).PutRoom(t.Context(), "expo-hall", &v1alpha1.RoomSpec{World: "expo", DisplayName: "Expo Hall"}); err != nil {
		t.Fatal(err)
	}
	a := sioagent.StartOrSkip(t)
	var cs []*client
	for _, v := range versions {
		c := connect(t, a, fmt.Sprint("quota", v), v, n, map[string]string{"sessionId": nodetest.TokenFor(t, key, fmt.Sprint("user", v)), "world": "expo"}, nil)
		c.Event("user_info")
		c.ok("room:join", map[string]any{"room": "expo-hall"})
		cs = append(cs, c)
	}
	set := func(c *client, res, reaction string) sioagent.Reply {
		return c.Call("resource:setReaction", req(map[string]any{"resource": res, "room": "expo-hall", "reaction": reaction}, ""))
	}
	cs[0].ok("resource:setReaction", map[string]any{"resource": "r1", "room": "expo-hall", "reaction": "👍"})
	cs[1].ok("resource:setReaction", map[string]any{"resource": "r2", "room": "expo-hall", "reaction": "👍"})
	for _, c := range cs {
		r := set(c, "r3", "👍")
		if r.Error.Code != 403 || !strings.Contains(r.Error.Message, "world") {
			t.Fatalf("v%d: a third reaction in a world of 2: %s, want 403 naming the world's quota", c.Version, r.Raw)
		}
	}
	if s := getReactions(t, cs[0], "r3"); s.Total != 0 {
		t.Fatalf("a refused set was stored: %+v", s)
	}
	cs[1].ok("resource:setReaction", map[string]any{"resource": "r2", "room": "expo-hall", "reaction": "❤️"}) // a replacement
	cs[0].ok("resource:deleteReaction", map[string]any{"resource": "r1", "room": "expo-hall"})
	cs[1].ok("resource:setReaction", map[string]any{"resource": "r3", "room": "expo-hall", "reaction": "👍"})
	if r := set(cs[0], "r4", "👍"); r.Error.Code != 403 {
		t.Fatalf("over the quota after the freed one was taken: %s, want 403", r.Raw)
	}
	// The built-in world is not limited by expo's quota.
	def := connected(t, a, n, "builtin", 4, "dora", nil, nil)
	def.ok("room:join", map[string]any{"room": "room_1"})
	def.ok("resource:setReaction", map[string]any{"resource": "r4", "room": "room_1", "reaction": "👍"})
}
