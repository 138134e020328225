package venueless_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/roomring/roomring/node/nodetest"
)

// The behaviours venueless' own web app depends on (issue #13), each
// through a real websocket. test/venueless runs the web app's store code
// itself against a node for the same behaviours.

// userCount is world.user_count_change's data.
type userCount struct {
	Room  string `json:"room"`
	Users string `json:"users"`
}

// nextUserCount waits for c's next world.user_count_change of room.
func nextUserCount(t *testing.T, c *nodetest.Client, room string) string {
	t.Helper()
	f := c.Wait(5*time.Second, "world.user_count_change of "+room, nodetest.IsEvent("world.user_count_change", room))
	return nodetest.Decode[userCount](t, f[1]).Users
}

// roomUsers is the users field of each room in world.config.
func roomUsers(t *testing.T, c *nodetest.Client) map[string]string {
	t.Helper()
	a := nodetest.Decode[struct {
		World struct {
			Rooms []struct{ ID, Users string } `json:"rooms"`
		} `json:"world.config"`
	}](t, c.Auth(map[string]any{"client_id": "count-reader"}))
	out := map[string]string{}
	for _, r := range a.World.Rooms {
		out[r.ID] = r.Users
	}
	return out
}

// TestScheduleComputeSession sends the frame of the web app's schedule
// switch (views/rooms/ManagePanels/Schedule.vue) and its "off" (null).
func TestScheduleComputeSession(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	admin := nodetest.Login(t, n.URL(), "admin", "admin")
	member, _ := loginGuest(t, n, "member")
	enter(t, member, "room_1")
	id := admin.Send("room.schedule", map[string]any{"room": "room_1", "schedule_data": map[string]any{"computeSession": true}})
	if f := admin.Reply(id); f.Kind() != "success" {
		t.Fatalf("room.schedule {computeSession: true}: %s", f)
	}
	got := nodetest.Decode[struct {
		Room         string         `json:"room"`
		ScheduleData map[string]any `json:"schedule_data"`
	}](t, member.Event("room.schedule"))
	if got.Room != "room_1" || got.ScheduleData["computeSession"] != true {
		t.Fatalf("room.schedule push = %+v", got)
	}
	_, a := loginGuest(t, n, "late")
	if r, _ := a.World.room("room_1"); r.ScheduleData["computeSession"] != true {
		t.Fatalf("world.config schedule_data = %v", r.ScheduleData)
	}
	admin.Call("room.schedule", map[string]any{"room": "room_1", "schedule_data": nil})
	if d := nodetest.Decode[struct {
		ScheduleData map[string]any `json:"schedule_data"`
	}](t, member.Event("room.schedule")); d.ScheduleData != nil {
		t.Fatalf("room.schedule after null = %v", d.ScheduleData)
	}
}

// TestCreateButtonPermissions: the admin holds the permissions the web
// app's sidebar and create prompt check, at world level only, and may
// create each room type; a viewer may create none.
func TestCreateButtonPermissions(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	want := []string{"world:rooms.create.stage", "world:rooms.create.chat", "world:rooms.create.bbb", "world:rooms.create"}
	admin := nodetest.Dial(t, n.URL())
	a := nodetest.Decode[authenticated](t, admin.Auth(map[string]any{"token": nodetest.Token(t, "admin", []string{"admin"}, nil)}))
	for _, p := range want {
		if !slices.Contains(a.World.Permissions, p) {
			t.Errorf("admin's world permissions %v lack %s", a.World.Permissions, p)
		}
	}
	for _, r := range a.World.Rooms {
		for _, p := range r.Permissions {
			if slices.Contains(want, p) {
				t.Errorf("room %s lists the world permission %s", r.ID, p)
			}
		}
	}
	mod := nodetest.Dial(t, n.URL())
	m := nodetest.Decode[authenticated](t, mod.Auth(map[string]any{"token": nodetest.Token(t, "mod", []string{"moderator"}, nil)}))
	for _, p := range want {
		if slices.Contains(m.World.Permissions, p) {
			t.Errorf("moderator holds %s", p)
		}
	}
	viewer, _ := loginGuest(t, n, "v")
	for i, modules := range []any{
		[]any{map[string]any{"type": "livestream.native", "config": map[string]any{"hls_url": ""}}},
		[]any{map[string]any{"type": "chat.native", "config": map[string]any{"volatile": false}}},
		[]any{map[string]any{"type": "call.bigbluebutton", "config": map[string]any{}}},
		[]any{},
	} {
		body := map[string]any{"name": fmt.Sprintf("Room %d", i), "description": "", "modules": modules}
		if code := viewer.CallErr("room.create", body); code != "protocol.denied" {
			t.Errorf("viewer creating %v: %q, want protocol.denied", modules, code)
		}
		if res := nodetest.Decode[struct{ Room string }](t, admin.Call("room.create", body)); res.Room == "" {
			t.Errorf("admin creating %v: no room", modules)
		}
	}
}

// TestUserCountBuckets: a client outside the room hears the room's
// occupancy change bucket — none, few (1–10), many (more than 10) — and
// only then, never on an enter or a leave that keeps the bucket; a client
// that connects later reads it in world.config.
//
// Long: twelve users in and out of one room, with the events checked at
// each bucket boundary.
func TestUserCountBuckets(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	const room = "lounge"
	if u := roomUsers(t, nodetest.Dial(t, n.URL())); u[room] != "none" || u["room_1"] != "none" {
		t.Fatalf("world.config users of an empty world: %v", u)
	}
	watcher, _ := loginGuest(t, n, "watcher") // never enters
	var users []*nodetest.Client
	for i := range 12 {
		c, _ := loginGuest(t, n, fmt.Sprintf("u%d", i))
		enter(t, c, room)
		users = append(users, c)
		switch i {
		case 0:
			if b := nextUserCount(t, watcher, room); b != "few" {
				t.Fatalf("first user: %q, want few", b)
			}
		case 10:
			if b := nextUserCount(t, watcher, room); b != "many" {
				t.Fatalf("eleventh user: %q, want many", b)
			}
		}
	}
	// Events of one room arrive in order: had users 2 to 10 or the
	// twelfth caused one, it would have come before "many" (or be
	// queued behind it: the leave below would then read it instead of
	// "few").
	if u := roomUsers(t, nodetest.Dial(t, n.URL())); u[room] != "many" || u["room_1"] != "none" {
		t.Fatalf("world.config users: %v", u)
	}
	// A second socket of a present user changes nothing; its leave neither.
	again := nodetest.Guest(t, n, "u0")
	enter(t, again, room)
	again.Call("room.leave", map[string]any{"room": room})
	for i := 11; i >= 0; i-- {
		users[i].Call("room.leave", map[string]any{"room": room})
		switch i {
		case 10: // 10 users left
			if b := nextUserCount(t, watcher, room); b != "few" {
				t.Fatalf("down to ten: %q, want few", b)
			}
		case 0:
			if b := nextUserCount(t, watcher, room); b != "none" {
				t.Fatalf("empty again: %q, want none", b)
			}
		}
	}
	if watcher.Has(nodetest.IsEvent("world.user_count_change", "")) {
		t.Fatal("an extra world.user_count_change")
	}
	// Closing the connection is leaving.
	enter(t, users[3], room)
	if b := nextUserCount(t, watcher, room); b != "few" {
		t.Fatalf("re-entered: %q", b)
	}
	users[3].Close()
	if b := nextUserCount(t, watcher, room); b != "none" {
		t.Fatalf("after close: %q", b)
	}
}

// TestUserCountOnlyVisibleRooms: like venueless, a client is not told the
// occupancy of a room it may not view.
func TestUserCountOnlyVisibleRooms(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	code := inviteCode(t, mod, "room_1")
	inv := nodetest.Dial(t, n.URL())
	inv.Auth(map[string]any{"client_id": "kiosk", "invite_token": code})
	enter(t, mod, "lounge") // the invitee may view room_1 only
	enter(t, mod, "room_1")
	if b := nextUserCount(t, inv, "room_1"); b != "few" {
		t.Fatalf("room_1: %q", b)
	}
	// lounge's event was published before room_1's, in order.
	if inv.Has(nodetest.IsEvent("world.user_count_change", "lounge")) {
		t.Fatal("the invitee was told the occupancy of a room it cannot view")
	}
}

// TestInviteeHidden: an anonymous invitee is counted but never listed: not
// in room.enter's viewers, no viewer.added or viewer.removed about them,
// as venueless hides users with show_publicly=False.
func TestInviteeHidden(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	enter(t, mod, "room_1")
	code := inviteCode(t, mod, "room_1")
	inv := nodetest.Dial(t, n.URL())
	a := nodetest.Decode[authenticated](t, inv.Auth(map[string]any{"client_id": "kiosk", "invite_token": code,
		"profile": map[string]any{"display_name": "Kiosk"}}))
	enter(t, inv, "room_1")
	g, ga := loginGuest(t, n, "g")
	enter(t, g, "room_1")
	// Viewer events of a room arrive in order: an added for the invitee
	// would come before g's.
	if added := nodetest.Decode[struct{ User user }](t, mod.Event("room.viewer.added")); added.User.ID != ga.User.ID {
		t.Fatalf("viewer.added = %+v, want the guest (the invitee is hidden)", added.User)
	}
	mod2 := nodetest.Login(t, n.URL(), "mod2", "moderator")
	if ids := viewerIDs(enter(t, mod2, "room_1").Viewers); slices.Contains(ids, a.User.ID) || !slices.Contains(ids, ga.User.ID) {
		t.Fatalf("viewers %v: want the guest, not the invitee %s", ids, a.User.ID)
	}
	mod.Event("room.viewer.added") // mod2
	inv.Close()
	g.Close()
	if removed := nodetest.Decode[struct {
		UserID string `json:"user_id"`
	}](t, mod.Event("room.viewer.removed")); removed.UserID != ga.User.ID {
		t.Fatalf("viewer.removed of %s, want the guest (the invitee is hidden)", removed.UserID)
	}
}
