package edge

import (
	"slices"
	"testing"

	"github.com/roomring/roomring/node/op"
)

func TestRosterKeepsProfilesOfEnteredUsers(t *testing.T) {
	e, _ := newEdge()
	alice1, alice2 := &sub{uid: "alice"}, &sub{uid: "alice"}
	bob := &sub{uid: "bob"}
	profile := map[string]any{"display_name": "Alice"}
	e.Enter("r", alice1, op.User{ID: "alice", Profile: profile}, true)
	e.Enter("r", alice2, op.User{ID: "alice", Profile: profile}, false)
	e.Join("r", bob, false) // no identity given
	e.Enter("s", bob, op.User{ID: "bob", Profile: map[string]any{"display_name": "Bob"}}, false)

	got := e.Roster("r")
	if len(got) != 2 || got[0].ID != "alice" || got[0].Profile["display_name"] != "Alice" || got[1].ID != "bob" {
		t.Fatalf("roster = %+v", got)
	}
	if !slices.Equal(e.Rooms(), []string{"r", "s"}) {
		t.Fatalf("rooms = %v", e.Rooms())
	}
	// Alice stays until her last session parts.
	e.Part("r", alice1)
	if got := e.Roster("r"); len(got) != 2 {
		t.Fatalf("roster after one of two sessions left = %+v", got)
	}
	e.Part("r", alice2)
	if got := e.Roster("r"); len(got) != 1 || got[0].ID != "bob" {
		t.Fatalf("roster after alice left = %+v", got)
	}
	e.Detach(bob)
	if e.Roster("r") != nil || len(e.Rooms()) != 0 {
		t.Fatalf("after detach: roster %v rooms %v", e.Roster("r"), e.Rooms())
	}
}
