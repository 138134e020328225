package postgres_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/node/store/postgres/pgtest"
	"github.com/roomring/roomring/test/socketio/sioagent"
)

// TestWorldReactionsIsolatedInAPool: in a pool of two nodes on one
// PostgreSQL, the same user id sets a reaction to the same resource id in
// worlds expo and fair, each write forwarded to the room's owner on the
// other node (the world travels with it on the cluster wire): PostgreSQL
// holds two rows, one per world, and each world's getReactions, on either
// node, answers its own reaction only.
//
// Long: one scenario across a pool, step by step.
func TestWorldReactionsIsolatedInAPool(t *testing.T) {
	const adminToken = "world-isolation-pool-admin-tok1"
	dsn := pgtest.DB(t)
	a, b := startPair(t, dsn, adminToken, [2]string{"127.0.0.36", "127.0.0.37"}, [2]string{"wi-a", "wi-b"})
	nodes := []*nodetest.Node{a, b}
	keys := map[string][]byte{"expo": bytes.Repeat([]byte("x"), 32), "fair": bytes.Repeat([]byte("y"), 32)}
	admin := nodetest.AdminClient(t, adminToken, a.Addr())
	// room[w] is a room of world w owned by wantOwner[w], so writes from
	// the other node are forwarded.
	wantOwner := map[string]string{"expo": "wi-a", "fair": "wi-b"}
	room := map[string]string{}
	for w, key := range keys {
		nodetest.PutWorld(t, a.Addr(), adminToken, w, nodetest.WorldSpec(w, map[string]v1alpha1.TraitEntries{"viewer": {}}), key)
		for i := 0; room[w] == ""; i++ {
			if i == 32 {
				t.Fatalf("32 rooms of %s, none owned by %s", w, wantOwner[w])
			}
			id := fmt.Sprintf("%s-%d", w, i)
			if a.Cluster().Placement().Owner(id) != wantOwner[w] {
				continue
			}
			if _, err := admin.PutRoom(t.Context(), id, &v1alpha1.RoomSpec{World: w, DisplayName: id}); err != nil {
				t.Fatal(err)
			}
			room[w] = id
		}
	}
	for _, n := range nodes {
		testkit.Eventually(t, 10*time.Second, n.Cluster().Name()+" serves both worlds' rooms", func() bool {
			return n.Catalog().World("expo") != nil && n.Catalog().World("fair") != nil &&
				n.Catalog().Exists(room["expo"]) && n.Catalog().Exists(room["fair"])
		})
	}
	agent := sioagent.StartOrSkip(t)
	// clients[w][i] is sam in world w on node i.
	clients := map[string][]*sioagent.Client{}
	for w, key := range keys {
		for i, n := range nodes {
			c := agent.Connect(t, sioagent.ClientConfig{Name: fmt.Sprint(w, i), Version: 2 + 2*i, URL: "http://" + n.Addr(),
				Query:  map[string]string{"sessionId": nodetest.TokenFor(t, key, "sam"), "world": w},
				Events: []string{"user_info"}})
			c.Event("user_info")
			clients[w] = append(clients[w], c)
		}
	}
	// Each write goes through the node that does not own the room.
	clients["expo"][1].CallOK("resource:setReaction", valuCall(map[string]any{"resource": "talk", "room": room["expo"], "reaction": "👍"}))
	clients["fair"][0].CallOK("resource:setReaction", valuCall(map[string]any{"resource": "talk", "room": room["fair"], "reaction": "❤️"}))
	want := map[string]string{"expo": "👍", "fair": "❤️"}
	for w, cs := range clients {
		for i, c := range cs {
			var s struct {
				Reactions   [][2]string `json:"reactions"`
				Total       int         `json:"total"`
				OwnReaction string      `json:"ownReaction"`
			}
			if err := json.Unmarshal(c.CallOK("resource:getReactions", valuCall(map[string]any{"resourceId": "talk"})), &s); err != nil {
				t.Fatal(err)
			}
			if s.Total != 1 || s.OwnReaction != want[w] || !slices.Equal(s.Reactions, [][2]string{{"sam", want[w]}}) {
				t.Fatalf("%s on node %d: getReactions = %+v, want sam's %s only", w, i, s, want[w])
			}
		}
	}
	rows := query[string](t, dsn, "SELECT world || ':' || reaction FROM roomring_resource_reactions WHERE user_id = 'sam' ORDER BY world")
	if !slices.Equal(rows, []string{"expo:👍", "fair:❤️"}) {
		t.Fatalf("sam's rows in PostgreSQL = %v, want one per world", rows)
	}
}
