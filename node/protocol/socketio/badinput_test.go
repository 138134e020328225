package socketio_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/test/socketio/sioagent"
)

// TestBadInputGetsErrorAcks sends malformed requests through the real
// clients and checks each gets a Valu error ack while the socket stays
// usable.
func TestBadInputGetsErrorAcks(t *testing.T) {
	n := nodetest.Start(t, nodetest.Config(t, ""))
	a := sioagent.StartOrSkip(t)
	long := strings.Repeat("x", 300)
	for _, v := range versions {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			c := connected(t, a, n, fmt.Sprintf("c%d", v), v, "dana", nil, profile("Dana", "D", nil))
			c.ok("room:join", map[string]any{"room": "room_1"})
			for _, tc := range []struct {
				name     string
				endpoint string
				arg      any
				code     int
				msg      string
			}{
				{"unknown endpoint", "resource:frobnicate", req(map[string]any{}, ""), 404, "unknown endpoint"},
				{"no argument", "resource:setReaction", nil, 400, "missing request"},
				{"not an object", "resource:setReaction", "hello", 400, "must be an object"},
				{"array", "room:join", []any{1, 2}, 400, "must be an object"},
				{"no data", "room:join", map[string]any{"event": map[string]any{"id": "x"}}, 400, "data must be an object"},
				{"data not object", "room:join", map[string]any{"data": "room_1"}, 400, "data must be an object"},
				{"event not object", "room:join", map[string]any{"data": map[string]any{"room": "room_1"}, "event": 5}, 400, "event must be an object"},
				{"event id not string", "room:join", map[string]any{"data": map[string]any{"room": "room_1"}, "event": map[string]any{"id": 5}}, 400, "event.id must be a string"},
				{"event date wrong", "room:join", map[string]any{"data": map[string]any{"room": "room_1"}, "event": map[string]any{"id": "a", "date": true}}, 400, "event.date"},
				{"missing room", "room:join", req(map[string]any{}, ""), 404, "missing room"},
				{"room wrong type", "room:join", req(map[string]any{"room": 7}, ""), 400, "wrong type"},
				{"missing resource", "resource:setReaction", req(map[string]any{"room": "room_1", "reaction": "👍"}, ""), 400, "resource is required"},
				{"missing reaction", "resource:setReaction", req(map[string]any{"room": "room_1", "resource": "r"}, ""), 400, "reaction is required"},
				{"reaction wrong type", "resource:setReaction", req(map[string]any{"room": "room_1", "resource": "r", "reaction": 1}, ""), 400, "wrong type"},
				{"reaction too long", "resource:setReaction", req(map[string]any{"room": "room_1", "resource": "r", "reaction": long}, ""), 400, "at most 64 bytes"},
				{"resource too long", "resource:getReactions", req(map[string]any{"resourceId": long}, ""), 400, "at most 256 bytes"},
				{"missing resourceId", "resource:getUserOwnReaction", req(map[string]any{}, ""), 400, "resource is required"},
				{"binary payload", "resource:setReaction", map[string]any{"$binary": "AQID"}, 400, "binary payloads are not supported"},
				{"delete without room", "resource:deleteReaction", req(map[string]any{"resource": "r"}, ""), 400, "room is required"},
			} {
				r := c.CallErr(tc.endpoint, tc.arg)
				if r.Error.Code != tc.code || !strings.Contains(r.Error.Message, tc.msg) || string(r.Data) != "null" {
					t.Errorf("%s: got %s, want code %d with %q and data null", tc.name, r.Raw, tc.code, tc.msg)
				}
			}
			// Unknown endpoints without an ack, and malformed packets, are
			// dropped without closing the socket.
			c.Emit("resource:frobnicate", req(map[string]any{}, ""))
			c.Raw(`2["room:join"`)    // broken JSON, no ack id
			c.Raw(`2{"not":"array"}`) // not an event array
			c.Raw(`21234567890123456789["room:join",{}]`)
			c.Raw(`2/nowhere,["room:join",{}]`)
			// Still usable: a real request works and gets its event.
			c.ok("resource:setReaction", map[string]any{"resource": "bad-input", "room": "room_1", "reaction": "👍"})
			c.Event("resource:reactionUpdated")
			if c.Has("disconnect") {
				t.Fatal("the socket was disconnected by bad input")
			}
			c.Close()
		})
	}
	// The node survived and still serves a fresh client.
	c := connected(t, a, n, "after", 4, "erin", nil, profile("Erin", "E", nil))
	if s := getReactions(t, c, "bad-input"); s.Total != 1 {
		t.Fatalf("after bad input: %+v", s)
	}
}
