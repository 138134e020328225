package socketio_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/test/socketio/sioagent"
)

// connected connects a client of version v as uid and waits for user_info.
func connected(t *testing.T, a *sioagent.Agent, n *nodetest.Node, name string, v int, uid string, traits []string, prof map[string]any) *client {
	t.Helper()
	tok := nodetest.Token(t, uid, traits, prof)
	c := connect(t, a, name, v, n, map[string]string{"sessionId": tok}, nil)
	c.Event("user_info")
	return c
}

type reactionEvent struct {
	Data struct {
		Room     string `json:"room"`
		Resource string `json:"resource"`
		Comment  string `json:"comment"`
		Reaction struct {
			Updated  string     `json:"updated"`
			Reaction string     `json:"reaction"`
			FromUser userSimple `json:"fromUser"`
		} `json:"reaction"`
	} `json:"data"`
	Error struct {
		Status bool `json:"status"`
		Code   int  `json:"code"`
	} `json:"error"`
}

func decodeEvent(t *testing.T, raw json.RawMessage) reactionEvent {
	t.Helper()
	var e reactionEvent
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("event %s: %v", raw, err)
	}
	if e.Error.Status || e.Error.Code != 0 {
		t.Fatalf("event %s carries an error", raw)
	}
	return e
}

type summary struct {
	Reactions   [][2]string `json:"reactions"`
	Total       int         `json:"total"`
	OwnReaction string      `json:"ownReaction"`
}

func getReactions(t *testing.T, c *client, resource string) summary {
	t.Helper()
	var s summary
	data := c.ok("resource:getReactions", map[string]any{"resourceId": resource})
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("getReactions data %s: %v", data, err)
	}
	if s.Reactions == nil {
		t.Fatalf("getReactions data %s: reactions must be a list", data)
	}
	return s
}

func ownReaction(t *testing.T, c *client, resource string) string {
	t.Helper()
	var o struct {
		OwnReaction *string `json:"ownReaction"`
	}
	data := c.ok("resource:getUserOwnReaction", map[string]any{"resourceId": resource})
	if err := json.Unmarshal(data, &o); err != nil || o.OwnReaction == nil {
		t.Fatalf("getUserOwnReaction data %s: want {\"ownReaction\": string}", data)
	}
	return *o.OwnReaction
}

// Long: one scenario played by real socket.io-client 2.x and 4.x agents in
// turn; the order of their emits is the point.
func TestJoinAndReactAcrossClientVersions(t *testing.T) {
	n := nodetest.Start(t, nodetest.Config(t, ""))
	a := sioagent.StartOrSkip(t)
	alice := connected(t, a, n, "alice", 2, "alice", nil, profile("Alice", "A", nil))
	bob := connected(t, a, n, "bob", 4, "bob", []string{"admin"}, profile("Bob", "B", nil))
	ghost := connected(t, a, n, "ghost", 4, "ghost", nil, profile("Gh", "Ost", map[string]any{"privacyMode": 1}))
	outsider := connected(t, a, n, "outsider", 2, "outsider", nil, profile("Out", "Sider", nil))

	var join struct {
		Permissions map[string]bool `json:"permissions"`
	}
	if err := json.Unmarshal(alice.ok("room:join", map[string]any{"room": "room_1"}), &join); err != nil {
		t.Fatal(err)
	}
	if want := map[string]bool{"view": true, "comment": true, "contribute": false, "edit": false, "manage": false}; fmt.Sprint(join.Permissions) != fmt.Sprint(want) {
		t.Fatalf("viewer permissions = %v, want %v", join.Permissions, want)
	}
	if err := json.Unmarshal(bob.ok("room:join", map[string]any{"room": "room_1"}), &join); err != nil {
		t.Fatal(err)
	}
	if want := map[string]bool{"view": true, "comment": true, "contribute": true, "edit": true, "manage": true}; fmt.Sprint(join.Permissions) != fmt.Sprint(want) {
		t.Fatalf("admin permissions = %v, want %v", join.Permissions, want)
	}
	ghost.ok("room:join", map[string]any{"room": "room_1"})
	outsider.ok("room:join", map[string]any{"room": "lounge"})

	// alice (2.x) reacts; everyone joined to room_1 hears it, the lounge does not.
	alice.ok("resource:setReaction", map[string]any{"resource": "talk-1", "comment": "", "room": "room_1", "reaction": "👍"})
	for _, c := range []*client{alice, bob, ghost} {
		e := decodeEvent(t, c.Event("resource:reactionUpdated")[0])
		u := e.Data.Reaction.FromUser
		if e.Data.Room != "room_1" || e.Data.Resource != "talk-1" || e.Data.Reaction.Reaction != "👍" ||
			e.Data.Reaction.Updated == "" || u.ID != "alice" || u.FirstName != "Alice" || u.CompanyName != "ACME" {
			t.Fatalf("%s got %+v", c.Name, e.Data)
		}
	}
	bob.ok("resource:setReaction", map[string]any{"resource": "talk-1", "room": "room_1", "reaction": "❤️"})
	bob.Event("resource:reactionUpdated")
	alice.Event("resource:reactionUpdated")
	ghost.Event("resource:reactionUpdated")

	// The incognito user is counted, never identified.
	ghost.ok("resource:setReaction", map[string]any{"resource": "talk-1", "room": "room_1", "reaction": "😮"})
	e := decodeEvent(t, alice.Event("resource:reactionUpdated")[0])
	if u := e.Data.Reaction.FromUser; u.ID != "" || u.FirstName != "" || u.PrivacyMode != 1 || e.Data.Reaction.Reaction != "😮" {
		t.Fatalf("incognito event reveals the user: %+v", e.Data)
	}
	bob.Event("resource:reactionUpdated")
	ghost.Event("resource:reactionUpdated")

	s := getReactions(t, alice, "talk-1")
	if s.Total != 3 || len(s.Reactions) != 2 || s.OwnReaction != "👍" ||
		s.Reactions[0] != [2]string{"bob", "❤️"} || s.Reactions[1] != [2]string{"alice", "👍"} {
		t.Fatalf("alice's view = %+v", s)
	}
	if s := getReactions(t, ghost, "talk-1"); s.Total != 3 || len(s.Reactions) != 2 || s.OwnReaction != "😮" {
		t.Fatalf("ghost's view = %+v", s)
	}
	// The outsider may read (no room named) but never got the events.
	if s := getReactions(t, outsider, "talk-1"); s.Total != 3 || s.OwnReaction != "" {
		t.Fatalf("outsider's view = %+v", s)
	}
	if outsider.Has("resource:reactionUpdated") {
		t.Fatal("a client joined to another room got room_1's reaction event")
	}

	// Set replaces: one reaction per user per resource.
	alice.ok("resource:setReaction", map[string]any{"resource": "talk-1", "room": "room_1", "reaction": "👏"})
	bob.Event("resource:reactionUpdated")
	if own := ownReaction(t, alice, "talk-1"); own != "👏" {
		t.Fatalf("own after replace = %q", own)
	}
	if s := getReactions(t, bob, "talk-1"); s.Total != 3 {
		t.Fatalf("replace changed the total: %+v", s)
	}

	// Reactions to a comment are separate from the resource's.
	alice.ok("resource:setReaction", map[string]any{"resource": "talk-1", "comment": "c-7", "room": "room_1", "reaction": "🤣"})
	if e := decodeEvent(t, bob.Event("resource:reactionUpdated")[0]); e.Data.Comment != "c-7" {
		t.Fatalf("comment event = %+v", e.Data)
	}
	if s := getReactions(t, bob, "talk-1"); s.Total != 3 {
		t.Fatalf("a comment reaction counted on the resource: %+v", s)
	}

	// Delete removes and tells the room.
	alice.ok("resource:deleteReaction", map[string]any{"resource": "talk-1", "comment": "", "room": "room_1", "reaction": "👏"})
	e = decodeEvent(t, bob.Event("resource:reactionDeleted")[0])
	if e.Data.Reaction.Reaction != "👏" || e.Data.Reaction.FromUser.ID != "alice" || e.Data.Resource != "talk-1" {
		t.Fatalf("deleted event = %+v", e.Data)
	}
	if own := ownReaction(t, alice, "talk-1"); own != "" {
		t.Fatalf("own after delete = %q", own)
	}
	if s := getReactions(t, bob, "talk-1"); s.Total != 2 || len(s.Reactions) != 1 || s.OwnReaction != "❤️" {
		t.Fatalf("after delete = %+v", s)
	}

	// room:leave stops the room's events.
	alice.ok("room:leave", map[string]any{"room": "room_1"})
	bob.ok("resource:setReaction", map[string]any{"resource": "talk-2", "room": "room_1", "reaction": "👍"})
	bob.Event("resource:reactionUpdated") // bob's own event arrived, so alice's would have too
	ghost.Event("resource:reactionUpdated")
	if alice.HasWhere("resource:reactionUpdated", func(raw json.RawMessage) bool {
		var e reactionEvent
		return json.Unmarshal(raw, &e) == nil && e.Data.Resource == "talk-2"
	}) {
		t.Fatal("a client that left the room still got its events")
	}
}

func TestReactionPermissions(t *testing.T) {
	n := nodetest.Start(t, nodetest.Config(t, ""))
	a := sioagent.StartOrSkip(t)
	c := connected(t, a, n, "c", 4, "carol", nil, profile("Carol", "C", nil))
	// Unknown room: 404; missing room on a write: 400.
	r := c.CallErr("resource:setReaction", req(map[string]any{"resource": "x", "room": "nope", "reaction": "👍"}, ""))
	if r.Error.Code != 404 {
		t.Fatalf("unknown room: %s", r.Raw)
	}
	r = c.CallErr("room:join", req(map[string]any{"room": "nope"}, ""))
	if r.Error.Code != 404 {
		t.Fatalf("join unknown room: %s", r.Raw)
	}
	r = c.CallErr("resource:setReaction", req(map[string]any{"resource": "x", "reaction": "👍"}, ""))
	if r.Error.Code != 400 {
		t.Fatalf("missing room: %s", r.Raw)
	}
	// A read that names a room checks that room.
	c.ok("resource:getReactions", map[string]any{"resourceId": "x", "room": "room_1"})
}
