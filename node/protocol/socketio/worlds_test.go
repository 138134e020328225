package socketio_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/test/socketio/sioagent"
)

// TestSelectWorld: Valu's clients (socket.io-client 2.x and 4.x) select a
// world with the handshake query's world parameter (the built-in world
// without it); a session of one world is refused on another, a room of
// another world is unknown, an unknown world is refused at the handshake,
// and a deleted world disconnects its clients.
func TestSelectWorld(t *testing.T) {
	const adminToken = "socketio-worlds-admin-token-01"
	n := nodetest.StartWith(t, func(c *node.Config) { c.Admin.Token = adminToken })
	key := bytes.Repeat([]byte("k"), 32)
	nodetest.PutWorld(t, n.Addr(), adminToken, "expo", nodetest.WorldSpec("Expo", map[string]v1alpha1.TraitEntries{"viewer": {}}), key)
	pool := nodetest.AdminClient(t, adminToken, n.Addr())
	if _, err := pool.PutRoom(t.Context(), "expo-hall", &v1alpha1.RoomSpec{World: "expo", DisplayName: "Expo Hall"}); err != nil {
		t.Fatal(err)
	}
	a := sioagent.StartOrSkip(t)
	for _, v := range versions {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			tok := nodetest.TokenFor(t, key, fmt.Sprintf("ellen%d", v))
			c := connect(t, a, fmt.Sprintf("expo%d", v), v, n, map[string]string{"sessionId": tok, "world": "expo"}, nil)
			c.Event("user_info")
			c.ok("room:join", map[string]any{"room": "expo-hall"})
			if r := c.CallErr("room:join", req(map[string]any{"room": "room_1"}, "")); r.Error.Code != 404 {
				t.Fatalf("joining the built-in world's room_1 from expo: %s, want 404", r.Raw)
			}

			// The same session without the world parameter is the
			// built-in world's, whose key it does not have.
			wrong := connect(t, a, fmt.Sprintf("nowhere%d", v), v, n, map[string]string{"sessionId": tok}, nil)
			if r := sioagent.DecodeReply(t, wrong.Event("invalidConnection")[0]); r.Error.Code != 401 {
				t.Fatalf("expo's session on the built-in world: %s, want 401", r.Raw)
			}
			def := connect(t, a, fmt.Sprintf("default%d", v), v, n, map[string]string{"sessionId": nodetest.Token(t, "dan", nil, nil)}, nil)
			def.Event("user_info")
			if r := def.CallErr("room:join", req(map[string]any{"room": "expo-hall"}, "")); r.Error.Code != 404 {
				t.Fatalf("joining expo-hall from the built-in world: %s, want 404", r.Raw)
			}

			unknown := connect(t, a, fmt.Sprintf("unknown%d", v), v, n, map[string]string{"sessionId": tok, "world": "nope"}, nil)
			unknown.Event("connect_error")
			def.Close()
			wrong.Close()
			unknown.Close()
		})
	}

	// Deleting expo disconnects its clients (both versions').
	if code, e := nodetest.AdminDo(t, n.Addr(), adminToken, http.MethodDelete, "worlds/expo", nil, nil); code != http.StatusNoContent {
		t.Fatalf("DELETE expo = %d %+v", code, e)
	}
	for _, v := range versions {
		c := &client{&sioagent.Client{Agent: a, T: t, Name: fmt.Sprintf("expo%d", v), Version: v, Timeout: waitTimeout}}
		if d := c.Event("disconnect"); string(d[0]) != `"io server disconnect"` {
			t.Fatalf("v%d: disconnect reason %s, want the server's disconnect", v, d[0])
		}
	}
}
