package venueless_test

import (
	"encoding/json"
	"testing"

	"github.com/roomring/roomring/node/nodetest"
)

type schedulePush struct {
	Room         string         `json:"room"`
	ScheduleData map[string]any `json:"schedule_data"`
}

func TestScheduleBroadcastToRoom(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	g, _ := loginGuest(t, n, "guest")
	away, _ := loginGuest(t, n, "away")
	enter(t, mod, "room_1")
	enter(t, g, "room_1")
	enter(t, away, "lounge")

	if raw := mod.Call("room.schedule", map[string]any{"room": "room_1", "schedule_data": map[string]any{"session": 1, "title": "Q&A"}}); string(raw) != "{}" {
		t.Fatalf("room.schedule reply = %s, want {}", raw)
	}
	for name, c := range map[string]*nodetest.Client{"mod": mod, "guest": g} {
		f := c.Wait(wait, "room.schedule", nodetest.IsEvent("room.schedule", "room_1"))
		var p schedulePush
		f.Decode(t, 1, &p)
		if p.ScheduleData["session"] != float64(1) || p.ScheduleData["title"] != "Q&A" {
			t.Errorf("%s got %s, want session 1 and title Q&A", name, f)
		}
	}
	// Marker: a lounge schedule change after room_1's reaches away after
	// anything room_1's change might wrongly have sent it.
	admin := nodetest.Login(t, n.URL(), "admin", "admin")
	admin.Call("room.schedule", map[string]any{"room": "lounge", "schedule_data": map[string]any{"title": "Coffee"}})
	away.Wait(wait, "lounge schedule", nodetest.IsEvent("room.schedule", "lounge"))
	if away.Has(nodetest.IsEvent("room.schedule", "room_1")) {
		t.Fatal("a user outside room_1 got room_1's schedule")
	}

	// The new schedule data is the room's: new clients see it.
	_, a := loginGuest(t, n, "later")
	if r, _ := a.World.room("room_1"); r.ScheduleData["title"] != "Q&A" {
		t.Fatalf("world.config schedule_data = %v, want the new data", r.ScheduleData)
	}
}

func TestScheduleUnknownKey(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	enter(t, mod, "room_1")
	for _, d := range []map[string]any{{"speaker": "x"}, {"title": "ok", "color": "red"}} {
		if code := mod.CallErr("room.schedule", map[string]any{"room": "room_1", "schedule_data": d}); code != "room.unknown_schedule_data" {
			t.Errorf("schedule_data %v: code %q, want room.unknown_schedule_data", d, code)
		}
	}
	if code := mod.CallErr("room.schedule", map[string]any{"room": "nope", "schedule_data": map[string]any{"title": "x"}}); code != "room.unknown" {
		t.Errorf("schedule of an unknown room: code %q, want room.unknown", code)
	}
	// schedule_data must be an object.
	if code := mod.CallErr("room.schedule", map[string]any{"room": "room_1", "schedule_data": "title"}); code != "protocol.invalid" {
		t.Errorf("schedule_data as a string: code %q, want protocol.invalid", code)
	}
	// Nothing was broadcast for the rejected changes: the first push is the
	// valid change below.
	mod.Call("room.schedule", map[string]any{"room": "room_1", "schedule_data": map[string]any{"title": "valid"}})
	var p schedulePush
	mod.Wait(wait, "room.schedule", nodetest.IsEvent("room.schedule", "room_1")).Decode(t, 1, &p)
	if p.ScheduleData["title"] != "valid" {
		t.Fatalf("first room.schedule push = %+v, want the valid change", p)
	}
}

// TestScheduleDeniedBroadcastsNothing: a viewer may not change the schedule,
// and its attempt reaches nobody.
func TestScheduleDeniedBroadcastsNothing(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	viewer, _ := loginGuest(t, n, "viewer")
	enter(t, mod, "room_1")
	enter(t, viewer, "room_1")
	if code := viewer.CallErr("room.schedule", map[string]any{"room": "room_1", "schedule_data": map[string]any{"title": "hijack"}}); code != "protocol.denied" {
		t.Fatalf("viewer changing the schedule: code %q, want protocol.denied", code)
	}
	// One room's pushes arrive in order: the first room.schedule anyone sees
	// must be the moderator's change, not the denied one.
	mod.Call("room.schedule", map[string]any{"room": "room_1", "schedule_data": map[string]any{"title": "legit"}})
	for name, c := range map[string]*nodetest.Client{"mod": mod, "viewer": viewer} {
		f := c.Wait(wait, "room.schedule", nodetest.IsEvent("room.schedule", "room_1"))
		var p schedulePush
		f.Decode(t, 1, &p)
		if p.ScheduleData["title"] != "legit" {
			t.Errorf("%s: first room.schedule = %s, want the moderator's", name, f)
		}
	}
	_, a := loginGuest(t, n, "later")
	if r, _ := a.World.room("room_1"); r.ScheduleData["title"] != "legit" {
		t.Fatalf("schedule_data = %v after a denied change, want legit", r.ScheduleData)
	}
}

// TestScheduleClear: null schedule data clears it and is broadcast as null.
func TestScheduleClear(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	enter(t, mod, "room_1")
	mod.Call("room.schedule", map[string]any{"room": "room_1", "schedule_data": nil})
	f := mod.Wait(wait, "room.schedule", nodetest.IsEvent("room.schedule", "room_1"))
	var p map[string]json.RawMessage
	f.Decode(t, 1, &p)
	if string(p["schedule_data"]) != "null" {
		t.Fatalf("room.schedule = %s, want schedule_data null", f)
	}
	_, a := loginGuest(t, n, "later")
	if r, _ := a.World.room("room_1"); len(r.ScheduleData) != 0 {
		t.Fatalf("schedule_data = %v after clearing", r.ScheduleData)
	}
}
