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
	profile := op.MustProfile(`{"display_name":"Alice"}`)
	e.Enter("r", alice1, op.User{ID: "alice", Profile: profile}, true)
	e.Enter("r", alice2, op.User{ID: "alice", Profile: profile}, false)
	e.Join("r", bob, false) // no identity given
	e.Enter("s", bob, op.User{ID: "bob", Profile: op.MustProfile(`{"display_name":"Bob"}`)}, false)

	got := e.Roster("r")
	if len(got) != 2 || got[0].ID != "alice" || !got[0].Profile.Equal(profile) || got[1].ID != "bob" {
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

func TestSnapshotTellsSessionsWhatTheyMissed(t *testing.T) {
	e, _ := newEdge()
	mod, plain := &sub{uid: "mod"}, &sub{uid: "plain"}
	e.Enter("r", mod, op.User{ID: "mod"}, true)
	e.Enter("r", plain, op.User{ID: "plain"}, false)
	// What the sessions were told: the enter reply and later events.
	e.Saw("r", []op.User{{ID: "mod"}, {ID: "dead"}, {ID: "plain"}})
	e.Deliver(&op.Event{Kind: op.EvViewerAdded, Room: "r", Audience: op.ToRoomViewers, Subject: "gone", Data: op.ViewerAdded{User: op.User{ID: "gone"}}})
	e.Deliver(&op.Event{Kind: op.EvViewerRemoved, Room: "r", Audience: op.ToRoomViewers, Subject: "gone", Data: op.ViewerRemoved{UserID: "gone"}})
	mod.take()
	// The new owner rebuilt the room without "dead" and with "late".
	e.Deliver(&op.Event{Kind: op.EvViewerSnapshot, Room: "r", Audience: op.ToRoomViewers,
		Data: op.ViewerSnapshot{Users: []op.User{{ID: "late"}, {ID: "mod"}, {ID: "plain"}}}})
	got := mod.take()
	slices.Sort(got)
	if !slices.Equal(got, []string{"v:room.viewer.added", "v:room.viewer.removed"}) {
		t.Fatalf("moderator got %v", got)
	}
	if got := plain.take(); len(got) != 0 {
		t.Fatalf("a session without room:viewers got %v", got)
	}
	// The same snapshot again implies nothing.
	e.Deliver(&op.Event{Kind: op.EvViewerSnapshot, Room: "r", Audience: op.ToRoomViewers,
		Data: op.ViewerSnapshot{Users: []op.User{{ID: "late"}, {ID: "mod"}, {ID: "plain"}}}})
	if got := mod.take(); len(got) != 0 {
		t.Fatalf("repeated snapshot delivered %v", got)
	}
}
