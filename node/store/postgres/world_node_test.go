package postgres_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/node/store/postgres/pgtest"
	"github.com/roomring/roomring/test/socketio/sioagent"
)

// valuCall is a Valu request: data and the event envelope.
func valuCall(data map[string]any) map[string]any {
	return map[string]any{"data": data, "event": map[string]any{"id": "", "date": time.Now().UnixMilli()}}
}

// TestWorldReactionQuotaTwoNodes: two nodes on one PostgreSQL, each the
// owner of a room of world expo (spec.quotas.resourceReactions 3), take
// resource reactions from real socket.io-client 2.x and 4.x clients. The
// world holds 3 whichever node writes: a set that would add a fourth is
// answered 403 (resource.quota_exceeded) on either node, replacing and
// deleting still work, a delete frees one, another world is not limited,
// and a quota lowered below the count refuses only additions.
//
// Long: one scenario across two nodes, step by step.
func TestWorldReactionQuotaTwoNodes(t *testing.T) {
	const adminToken = "world-quota-admin-token-0001"
	dsn := pgtest.DB(t)
	key := bytes.Repeat([]byte("q"), 32)
	spec := nodetest.WorldSpec("Expo", map[string]v1alpha1.TraitEntries{"viewer": {}})
	a := sioagent.StartOrSkip(t)
	var clients []*sioagent.Client
	var nodes []*nodetest.Node
	for i := range 2 {
		cfg := nodeConfig(t, dsn)
		cfg.Admin.Token = adminToken
		n := nodetest.Start(t, cfg)
		spec.Quotas.ResourceReactions = 3
		nodetest.PutWorld(t, n.Addr(), adminToken, "expo", spec, key)
		room := fmt.Sprint("hall-", i)
		if _, err := nodetest.AdminClient(t, adminToken, n.Addr()).PutRoom(t.Context(), room, &v1alpha1.RoomSpec{World: "expo", DisplayName: room}); err != nil {
			t.Fatal(err)
		}
		v := 2 + 2*i // socket.io-client 2.x on the first node, 4.x on the second
		c := a.Connect(t, sioagent.ClientConfig{Name: fmt.Sprint("node", i), Version: v, URL: "http://" + n.Addr(),
			Query:  map[string]string{"sessionId": nodetest.TokenFor(t, key, fmt.Sprint("user", i)), "world": "expo"},
			Events: []string{"user_info"}})
		c.Event("user_info")
		c.CallOK("room:join", valuCall(map[string]any{"room": room}))
		clients, nodes = append(clients, c), append(nodes, n)
	}
	set := func(i int, res, reaction string) int {
		return clients[i].Call("resource:setReaction", valuCall(map[string]any{"resource": res, "room": fmt.Sprint("hall-", i), "reaction": reaction})).Error.Code
	}
	expect := func(i int, res, reaction string, want int) {
		t.Helper()
		if got := set(i, res, reaction); got != want {
			t.Fatalf("set %s %s on node %d: code %d, want %d", res, reaction, i, got, want)
		}
	}
	expect(0, "r1", "👍", 0)
	expect(1, "r2", "👍", 0)
	expect(0, "r3", "👍", 0)
	expect(1, "r4", "👍", 403) // the world holds 3, one of them written by the other node
	expect(0, "r4", "👍", 403)
	expect(0, "r1", "❤️", 0) // a replacement adds nothing
	clients[1].CallOK("resource:deleteReaction", valuCall(map[string]any{"resource": "r2", "room": "hall-1"}))
	expect(0, "r5", "👍", 0) // the delete on node 1 freed one for node 0
	expect(1, "r6", "👍", 403)
	if n := query[int32](t, dsn, "SELECT reactions FROM roomring_resource_reaction_worlds WHERE world = 'expo'"); len(n) != 1 || n[0] != 3 {
		t.Fatalf("expo's count in PostgreSQL = %v, want [3]", n)
	}
	rows := query[int64](t, dsn, "SELECT count(*) FROM roomring_resource_reactions WHERE world = 'expo'")
	if rows[0] != 3 {
		t.Fatalf("expo's rows = %d, want 3", rows[0])
	}

	// The built-in world is not limited by expo's quota.
	def := a.Connect(t, sioagent.ClientConfig{Name: "builtin", Version: 4, URL: "http://" + nodes[1].Addr(),
		Query: map[string]string{"sessionId": nodetest.Token(t, "dora", nil, nil)}, Events: []string{"user_info"}})
	def.Event("user_info")
	def.CallOK("room:join", valuCall(map[string]any{"room": "room_1"}))
	def.CallOK("resource:setReaction", valuCall(map[string]any{"resource": "r9", "room": "room_1", "reaction": "👍"}))

	// Lowered below the count: nothing is removed, replacements still
	// work, additions wait until deletes bring the world under it.
	spec.Quotas.ResourceReactions = 1
	for _, n := range nodes {
		nodetest.PutWorld(t, n.Addr(), adminToken, "expo", spec, key)
	}
	expect(0, "r1", "👏", 0)
	expect(0, "r7", "👍", 403)
	clients[0].CallOK("resource:deleteReaction", valuCall(map[string]any{"resource": "r3", "room": "hall-0"}))
	expect(1, "r7", "👍", 403) // 2 left, still over 1
	clients[0].CallOK("resource:deleteReaction", valuCall(map[string]any{"resource": "r5", "room": "hall-0"}))
	clients[0].CallOK("resource:deleteReaction", valuCall(map[string]any{"resource": "r1", "room": "hall-0"}))
	expect(1, "r7", "👍", 0)
	expect(0, "r8", "👍", 403)
}
