package socketio_test

import (
	"encoding/json"
	"testing"

	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/test/socketio/sioagent"
)

// TestVenuelessAndSocketIOShareRooms puts a venueless client and Valu
// clients in one room: each sees the other's viewer entries and resource
// reactions, because both dialects run the same engine operations.
//
// Long: one scenario across both dialects, each step depending on the
// previous one; the order is the point.
func TestVenuelessAndSocketIOShareRooms(t *testing.T) {
	n := nodetest.Start(t, nodetest.Config(t, ""))
	a := sioagent.StartOrSkip(t)

	mod := nodetest.Dial(t, n.URL())
	mod.Auth(map[string]any{"token": nodetest.Token(t, "mod", []string{"moderator"}, map[string]any{"display_name": "Mo"})})
	var enter struct {
		Viewers []struct {
			ID string `json:"id"`
		} `json:"viewers"`
	}
	if err := json.Unmarshal(mod.Call("room.enter", map[string]any{"room": "room_1"}), &enter); err != nil {
		t.Fatal(err)
	}

	valu := connected(t, a, n, "valu", 2, "hank", nil, profile("Hank", "H", nil))
	valu.ok("room:join", map[string]any{"room": "room_1"})
	var added struct {
		User struct {
			ID      string         `json:"id"`
			Profile map[string]any `json:"profile"`
		} `json:"user"`
	}
	if err := json.Unmarshal(mod.Event("room.viewer.added"), &added); err != nil {
		t.Fatal(err)
	}
	if added.User.ID != "hank" || added.User.Profile["firstName"] != "Hank" {
		t.Fatalf("venueless saw viewer %+v, want the Socket.IO user hank", added.User)
	}
	// A second venueless viewer lists the Socket.IO user.
	mod2 := nodetest.Dial(t, n.URL())
	mod2.Auth(map[string]any{"token": nodetest.Token(t, "mod2", []string{"moderator"}, nil)})
	if err := json.Unmarshal(mod2.Call("room.enter", map[string]any{"room": "room_1"}), &enter); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, v := range enter.Viewers {
		ids[v.ID] = true
	}
	if !ids["hank"] || !ids["mod"] {
		t.Fatalf("viewer list %+v lacks hank or mod", enter.Viewers)
	}

	// venueless → Valu.
	mod.Call("resource.reaction.set", map[string]any{"room": "room_1", "resource": "poster-3", "reaction": "👍"})
	e := decodeEvent(t, valu.Event("resource:reactionUpdated")[0])
	if e.Data.Resource != "poster-3" || e.Data.Reaction.Reaction != "👍" || e.Data.Reaction.FromUser.ID != "mod" ||
		e.Data.Reaction.FromUser.FirstName != "Mo" {
		t.Fatalf("Valu client saw %+v", e.Data)
	}
	mod.Event("resource.reaction.updated")

	// Valu → venueless.
	valu.ok("resource:setReaction", map[string]any{"resource": "poster-3", "room": "room_1", "reaction": "❤️"})
	var ve struct {
		Room     string `json:"room"`
		Resource string `json:"resource"`
		Comment  string `json:"comment"`
		Reaction string `json:"reaction"`
		Updated  string `json:"updated"`
		User     *struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := json.Unmarshal(mod.Event("resource.reaction.updated"), &ve); err != nil {
		t.Fatal(err)
	}
	if ve.Room != "room_1" || ve.Resource != "poster-3" || ve.Reaction != "❤️" || ve.User == nil || ve.User.ID != "hank" || ve.Updated == "" {
		t.Fatalf("venueless client saw %+v", ve)
	}
	valu.Event("resource:reactionUpdated")

	// Both read the same reactions.
	var s summary
	if err := json.Unmarshal(mod.Call("resource.reaction.get", map[string]any{"resource": "poster-3"}), &s); err != nil {
		t.Fatal(err)
	}
	if s.Total != 2 || s.OwnReaction != "👍" || len(s.Reactions) != 2 {
		t.Fatalf("venueless get = %+v", s)
	}
	if vs := getReactions(t, valu, "poster-3"); vs.Total != 2 || vs.OwnReaction != "❤️" {
		t.Fatalf("Valu get = %+v", vs)
	}
	var own struct {
		OwnReaction string `json:"ownReaction"`
	}
	if err := json.Unmarshal(mod.Call("resource.reaction.own", map[string]any{"resource": "poster-3"}), &own); err != nil || own.OwnReaction != "👍" {
		t.Fatalf("venueless own = %+v, %v", own, err)
	}

	// Delete in venueless, seen by Valu.
	mod.Call("resource.reaction.delete", map[string]any{"room": "room_1", "resource": "poster-3"})
	if e := decodeEvent(t, valu.Event("resource:reactionDeleted")[0]); e.Data.Reaction.FromUser.ID != "mod" || e.Data.Reaction.Reaction != "👍" {
		t.Fatalf("Valu saw delete %+v", e.Data)
	}
	mod.Event("resource.reaction.deleted")

	// Venueless errors for the same bad input.
	if code := mod.CallErr("resource.reaction.set", map[string]any{"room": "room_1", "resource": "poster-3"}); code != "protocol.invalid" {
		t.Fatalf("venueless missing reaction: %s", code)
	}

	// Leaving (and disconnecting) removes the Socket.IO viewer for venueless.
	valu.ok("room:leave", map[string]any{"room": "room_1"})
	var removed struct {
		UserID string `json:"user_id"`
	}
	if err := json.Unmarshal(mod.Event("room.viewer.removed"), &removed); err != nil || removed.UserID != "hank" {
		t.Fatalf("viewer removed = %+v, %v", removed, err)
	}
	valu.ok("room:join", map[string]any{"room": "room_1"})
	mod.Event("room.viewer.added")
	valu.Close()
	if err := json.Unmarshal(mod.Event("room.viewer.removed"), &removed); err != nil || removed.UserID != "hank" {
		t.Fatalf("viewer removed on disconnect = %+v, %v", removed, err)
	}
}

// TestReactionsSurviveRestart stores reactions, restarts the node on the
// same data directory and reads them back.
func TestReactionsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	n := nodetest.Start(t, nodetest.Config(t, dir))
	a := sioagent.StartOrSkip(t)
	c := connected(t, a, n, "before", 2, "ivy", nil, profile("Ivy", "I", nil))
	c.ok("resource:setReaction", map[string]any{"resource": "keynote", "room": "room_1", "reaction": "👏"})
	c.ok("resource:setReaction", map[string]any{"resource": "keynote", "comment": "q-1", "room": "room_1", "reaction": "👍"})
	g := connected(t, a, n, "ghost-before", 4, "ghost", nil, profile("G", "H", map[string]any{"privacyMode": 1}))
	g.ok("resource:setReaction", map[string]any{"resource": "keynote", "room": "room_1", "reaction": "😮"})
	n.Stop(t)
	c.Event("disconnect")
	g.Event("disconnect")

	n2 := nodetest.Start(t, nodetest.Config(t, dir))
	c2 := connected(t, a, n2, "after", 4, "ivy", nil, profile("Ivy", "I", nil))
	s := getReactions(t, c2, "keynote")
	if s.Total != 2 || len(s.Reactions) != 1 || s.Reactions[0] != [2]string{"ivy", "👏"} || s.OwnReaction != "👏" {
		t.Fatalf("after restart: %+v", s)
	}
	var sc summary
	if err := json.Unmarshal(c2.ok("resource:getReactions", map[string]any{"resourceId": "keynote", "comment": "q-1"}), &sc); err != nil || sc.Total != 1 || sc.OwnReaction != "👍" {
		t.Fatalf("comment after restart: %+v %v", sc, err)
	}
}
