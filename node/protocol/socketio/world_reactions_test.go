package socketio_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/test/socketio/sioagent"
)

// TestWorldResourceReactionsIsolated: resource reactions belong to their
// world. The same user id reacting to the same resource id in worlds expo,
// fair and the built-in world (socket.io-client 2.x and 4.x, one node,
// bbolt) makes three reactions: each world's getReactions lists, totals
// and answers ownReaction from its own only; a set, replace or delete in
// one leaves the others as they were; and each client hears only its own
// world's resource events.
//
// Long: one scenario per client version; the order of the writes is the point.
func TestWorldResourceReactionsIsolated(t *testing.T) {
	const adminToken = "socketio-world-reactions-tok-01"
	n := nodetest.StartWith(t, func(c *node.Config) { c.Admin.Token = adminToken })
	keys := map[string][]byte{"expo": bytes.Repeat([]byte("e"), 32), "fair": bytes.Repeat([]byte("f"), 32)}
	pool := nodetest.AdminClient(t, adminToken, n.Addr())
	for world, key := range keys {
		nodetest.PutWorld(t, n.Addr(), adminToken, world, nodetest.WorldSpec(world, map[string]v1alpha1.TraitEntries{"viewer": {}}), key)
		if _, err := pool.PutRoom(t.Context(), world+"-hall", &v1alpha1.RoomSpec{World: world, DisplayName: world}); err != nil {
			t.Fatal(err)
		}
	}
	a := sioagent.StartOrSkip(t)
	for _, v := range versions {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			uid, res := fmt.Sprintf("sam%d", v), fmt.Sprintf("talk-%d", v)
			in := func(world, room string, q map[string]string) *client {
				c := connect(t, a, fmt.Sprintf("%s-%s", world, uid), v, n, q, nil)
				c.Event("user_info")
				c.ok("room:join", map[string]any{"room": room})
				return c
			}
			expo := in("expo", "expo-hall", map[string]string{"sessionId": nodetest.TokenFor(t, keys["expo"], uid), "world": "expo"})
			fair := in("fair", "fair-hall", map[string]string{"sessionId": nodetest.TokenFor(t, keys["fair"], uid), "world": "fair"})
			def := in("builtin", "room_1", map[string]string{"sessionId": nodetest.Token(t, uid, nil, nil)})
			rooms := map[*client]string{expo: "expo-hall", fair: "fair-hall", def: "room_1"}
			set := func(c *client, reaction string) {
				t.Helper()
				c.ok("resource:setReaction", map[string]any{"resource": res, "room": rooms[c], "reaction": reaction})
				if e := decodeEvent(t, c.Event("resource:reactionUpdated")[0]); e.Data.Room != rooms[c] || e.Data.Reaction.Reaction != reaction {
					t.Fatalf("%s: own update event %+v", c.Name, e.Data)
				}
			}
			// sees checks what c's world answers: the reaction of uid
			// listed, total and own ("" when none).
			sees := func(c *client, reaction string) {
				t.Helper()
				s := getReactions(t, c, res)
				want := summary{Reactions: [][2]string{}}
				if reaction != "" {
					want = summary{Reactions: [][2]string{{uid, reaction}}, Total: 1, OwnReaction: reaction}
				}
				if s.Total != want.Total || s.OwnReaction != want.OwnReaction || !slices.Equal(s.Reactions, want.Reactions) {
					t.Fatalf("%s: getReactions = %+v, want %+v", c.Name, s, want)
				}
				if own := ownReaction(t, c, res); own != reaction {
					t.Fatalf("%s: getUserOwnReaction = %q, want %q", c.Name, own, reaction)
				}
			}

			set(expo, "👍")
			sees(expo, "👍")
			sees(fair, "")
			sees(def, "")
			set(fair, "❤️") // the same user and resource: a reaction of fair's own
			set(def, "😮")
			sees(expo, "👍")
			sees(fair, "❤️")
			sees(def, "😮")

			expo.ok("resource:deleteReaction", map[string]any{"resource": res, "room": "expo-hall"})
			if e := decodeEvent(t, expo.Event("resource:reactionDeleted")[0]); e.Data.Reaction.Reaction != "👍" {
				t.Fatalf("expo's delete event %+v, want its own 👍", e.Data)
			}
			sees(expo, "")
			sees(fair, "❤️")
			sees(def, "😮")
			// A delete where the user has no reaction leaves the others'.
			expo.ok("resource:deleteReaction", map[string]any{"resource": res, "room": "expo-hall"})
			set(fair, "👏")
			sees(expo, "")
			sees(fair, "👏")
			sees(def, "😮")

			// Each client heard its own writes only: every event it got
			// was consumed above, in its own room.
			for c := range rooms {
				for _, ev := range []string{"resource:reactionUpdated", "resource:reactionDeleted"} {
					if c.HasWhere(ev, func(json.RawMessage) bool { return true }) {
						t.Fatalf("%s got another world's %s", c.Name, ev)
					}
				}
			}
			for c := range rooms {
				c.Close()
			}
		})
	}
}
