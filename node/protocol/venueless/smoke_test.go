package venueless_test

import (
	"encoding/json"
	"testing"

	"github.com/roomring/roomring/node/nodetest"
)

func TestSmokeEnterAndReact(t *testing.T) {
	n := nodetest.Start(t, nodetest.Config(t, ""))
	a := nodetest.Dial(t, n.URL())
	a.Auth(map[string]any{"token": nodetest.Token(t, "alice", []string{"moderator"}, map[string]any{"display_name": "Alice"})})
	b := nodetest.Dial(t, n.URL())
	b.Auth(map[string]any{"client_id": "bob-browser"})

	var enter struct {
		Viewers []struct{ ID string } `json:"viewers"`
	}
	if err := json.Unmarshal(a.Call("room.enter", map[string]any{"room": "room_1"}), &enter); err != nil {
		t.Fatal(err)
	}
	if len(enter.Viewers) != 1 || enter.Viewers[0].ID != "alice" {
		t.Fatalf("viewers = %+v, want alice", enter.Viewers)
	}
	b.Call("room.enter", map[string]any{"room": "room_1"})
	a.Event("room.viewer.added")
	a.Call("room.react", map[string]any{"room": "room_1", "reaction": "👏"})
	b.Call("room.react", map[string]any{"room": "room_1", "reaction": "👏"})
	var r struct {
		Room      string         `json:"room"`
		Reactions map[string]int `json:"reactions"`
	}
	if err := json.Unmarshal(b.Event("room.reaction"), &r); err != nil {
		t.Fatal(err)
	}
	if r.Room != "room_1" || r.Reactions["👏"] != 2 {
		t.Fatalf("reaction = %+v, want 2 claps in room_1", r)
	}
}
