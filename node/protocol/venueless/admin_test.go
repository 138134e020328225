package venueless_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/roomring/roomring/node/nodetest"
)

func configList(t *testing.T, admin *nodetest.Client) []adminRoom {
	t.Helper()
	return nodetest.Decode[[]adminRoom](t, admin.Call("room.config.list", map[string]any{}))
}

func roomIDs(rs []adminRoom) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func TestRoomCreate(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	admin := nodetest.Login(t, n.URL(), "admin", "admin")
	g, _ := loginGuest(t, n, "guest")

	raw := admin.Call("room.create", map[string]any{"name": "Hall B", "description": "Second stage",
		"modules": []map[string]any{{"type": "livestream.native", "config": map[string]any{"hls_url": "https://x/y.m3u8"}}}})
	var res struct {
		Room    string          `json:"room"`
		Channel json.RawMessage `json:"channel"`
	}
	if err := json.Unmarshal(raw, &res); err != nil || res.Room == "" {
		t.Fatalf("room.create reply = %s, want {room: id}", raw)
	}
	// Everyone is told, with their own permissions.
	push := nodetest.Decode[roomConfig](t, g.Event("room.create"))
	if push.ID != res.Room || push.Name != "Hall B" || !slices.Equal(push.Permissions, []string{"room:view", "room:react"}) {
		t.Fatalf("guest's room.create = %+v, want Hall B with viewer permissions", push)
	}
	if ap := nodetest.Decode[roomConfig](t, admin.Event("room.create")); !slices.Contains(ap.Permissions, "room:delete") {
		t.Fatalf("admin's room.create permissions = %v, want admin permissions", ap.Permissions)
	}
	// The room is last in order and usable.
	rooms := configList(t, admin)
	if last := rooms[len(rooms)-1]; last.ID != res.Room || last.Description != "Second stage" || last.SortingPriority != 5 {
		t.Fatalf("last room = %+v, want the new one with priority 5", last)
	}
	enter(t, g, res.Room)
	react(t, g, res.Room, "👏")
}

func TestRoomCreateNameTaken(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	admin := nodetest.Login(t, n.URL(), "admin", "admin")
	for _, name := range []string{"Main Stage", "main stage", "  LOUNGE "} {
		if code := admin.CallErr("room.create", map[string]any{"name": name}); code != "room.invalid.name_taken" {
			t.Errorf("create %q: code %q, want room.invalid.name_taken", name, code)
		}
	}
	for _, body := range []map[string]any{{"name": ""}, {"name": "   "}, {}, {"name": "ok", "modules": []map[string]any{{"config": map[string]any{}}}}} {
		if code := admin.CallErr("room.create", body); code != "config.invalid" {
			t.Errorf("create %v: code %q, want config.invalid", body, code)
		}
	}
	if got := len(configList(t, admin)); got != 4 {
		t.Fatalf("%d rooms after failed creates, want 4", got)
	}
}

func TestRoomCreateDenied(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	for _, c := range []*nodetest.Client{nodetest.Login(t, n.URL(), "mod", "moderator"), nodetest.Login(t, n.URL(), "plain")} {
		if code := c.CallErr("room.create", map[string]any{"name": "Mine"}); code != "protocol.denied" {
			t.Errorf("non-admin create: code %q, want protocol.denied", code)
		}
	}
	g, _ := loginGuest(t, n, "g")
	if code := g.CallErr("room.create", map[string]any{"name": "Mine"}); code != "protocol.denied" {
		t.Errorf("guest create: code %q, want protocol.denied", code)
	}
}

func TestRoomConfigGet(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	admin := nodetest.Login(t, n.URL(), "admin", "admin")
	r := nodetest.Decode[adminRoom](t, admin.Call("room.config.get", map[string]any{"room": "workshop-a"}))
	if r.ID != "workshop-a" || r.Name != "Workshop A" || r.SortingPriority != 2 ||
		!slices.Equal(r.AllowedReactions, []string{"👏", "👍", "😮"}) || !r.ShowViewers || !r.AnonymousInvites {
		t.Fatalf("config.get = %+v", r)
	}
	if b := nodetest.Decode[adminRoom](t, admin.Call("room.config.get", map[string]any{"room": "backstage"})); b.AnonymousInvites {
		t.Errorf("backstage anonymous_invites = true, want false")
	}
	if code := admin.CallErr("room.config.get", map[string]any{"room": "nope"}); code != "room.unknown" {
		t.Errorf("config.get of an unknown room: code %q, want room.unknown", code)
	}
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	if code := mod.CallErr("room.config.get", map[string]any{"room": "room_1"}); code != "protocol.denied" {
		t.Errorf("moderator config.get: code %q, want protocol.denied", code)
	}
}

func TestRoomConfigPatch(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	admin := nodetest.Login(t, n.URL(), "admin", "admin")
	g, _ := loginGuest(t, n, "guest")
	r := nodetest.Decode[adminRoom](t, admin.Call("room.config.patch", map[string]any{"room": "room_1", "name": "Big Stage",
		"description": "new", "id": "hijacked", "unknown_key": 1}))
	if r.ID != "room_1" || r.Name != "Big Stage" || r.Description != "new" || r.ScheduleData["title"] != "Opening keynote" {
		t.Fatalf("patch reply = %+v, want room_1 renamed, rest kept", r)
	}
	// Every client gets its new world config.
	w := nodetest.Decode[worldConfig](t, g.Event("world.updated"))
	if rc, ok := w.room("room_1"); !ok || rc.Name != "Big Stage" || !slices.Equal(rc.Permissions, []string{"room:view", "room:react"}) {
		t.Fatalf("guest's world.updated room_1 = %+v", rc)
	}
	admin.Event("world.updated")
	if got := nodetest.Decode[adminRoom](t, admin.Call("room.config.get", map[string]any{"room": "room_1"})); got.Name != "Big Stage" {
		t.Fatalf("config.get after patch = %+v", got)
	}
	// Renaming to its own name in another case is fine.
	admin.Call("room.config.patch", map[string]any{"room": "room_1", "name": "BIG STAGE"})
}

func TestRoomConfigPatchInvalid(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	admin := nodetest.Login(t, n.URL(), "admin", "admin")
	for _, p := range []map[string]any{
		{"name": 5}, {"name": ""}, {"sorting_priority": "first"}, {"allowed_reactions": []string{"🐸"}},
		{"allowed_reactions": "👏"}, {"module_config": []map[string]any{{"config": map[string]any{}}}},
		{"show_viewers": "yes"}, {"trait_grants": map[string]any{"moderator": 5}},
		{"schedule_data": map[string]any{"speaker": "x"}}, {"force_join": 1},
	} {
		p["room"] = "lounge"
		if code := admin.CallErr("room.config.patch", p); code != "config.invalid" {
			t.Errorf("patch %v: code %q, want config.invalid", p, code)
		}
	}
	if code := admin.CallErr("room.config.patch", map[string]any{"room": "lounge", "name": "main stage"}); code != "room.invalid.name_taken" {
		t.Errorf("patch to a taken name: code %q, want room.invalid.name_taken", code)
	}
	if code := admin.CallErr("room.config.patch", map[string]any{"room": "nope", "name": "x"}); code != "room.unknown" {
		t.Errorf("patch of an unknown room: code %q, want room.unknown", code)
	}
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	if code := mod.CallErr("room.config.patch", map[string]any{"room": "lounge", "name": "x"}); code != "protocol.denied" {
		t.Errorf("moderator patch: code %q, want protocol.denied", code)
	}
	// Nothing changed, and nobody was told of a change.
	r := nodetest.Decode[adminRoom](t, admin.Call("room.config.get", map[string]any{"room": "lounge"}))
	if r.Name != "Lounge" || r.SortingPriority != 3 || len(r.AllowedReactions) != 5 {
		t.Fatalf("lounge after rejected patches = %+v", r)
	}
	if admin.Has(nodetest.IsEvent("world.updated", "")) {
		t.Fatal("a rejected patch sent world.updated")
	}
}

// TestRoomConfigPatchBehaviour: the roomring keys change what the room does.
func TestRoomConfigPatchBehaviour(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	admin := nodetest.Login(t, n.URL(), "admin", "admin")
	admin.Call("room.config.patch", map[string]any{"room": "lounge", "allowed_reactions": []string{"🤣"}, "show_viewers": false})
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	if r := enter(t, mod, "lounge"); r.Viewers != nil {
		t.Fatalf("viewers shown in a room with show_viewers false: %v", r.Viewers)
	}
	if code := mod.CallErr("room.react", map[string]any{"room": "lounge", "reaction": "👏"}); code != "room.unknown_reaction" {
		t.Fatalf("👏 after restricting to 🤣: code %q", code)
	}
	react(t, mod, "lounge", "🤣")
	// Trait grants: patching the lounge so trait "host" moderates it.
	admin.Call("room.config.patch", map[string]any{"room": "lounge", "show_viewers": true, "trait_grants": map[string]any{"moderator": []string{"host"}}})
	host := nodetest.Login(t, n.URL(), "host-1", "host")
	if r := enter(t, host, "lounge"); r.Viewers == nil {
		t.Fatal("a host got no viewers after the trait grant")
	}
}

func TestRoomConfigList(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	admin := nodetest.Login(t, n.URL(), "admin", "admin")
	rooms := configList(t, admin)
	if want := []string{"room_1", "workshop-a", "lounge", "backstage"}; !slices.Equal(roomIDs(rooms), want) {
		t.Fatalf("config.list = %v, want %v", roomIDs(rooms), want)
	}
	for _, c := range []*nodetest.Client{nodetest.Login(t, n.URL(), "mod", "moderator"), nodetest.Login(t, n.URL(), "x")} {
		if code := c.CallErr("room.config.list", map[string]any{}); code != "protocol.denied" {
			t.Errorf("non-admin config.list: code %q, want protocol.denied", code)
		}
	}
}

// TestRoomConfigReorder: listed rooms get priorities 1..n in list order; the
// rest follow in their previous order; unknown ids are ignored.
func TestRoomConfigReorder(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	admin := nodetest.Login(t, n.URL(), "admin", "admin")
	g, _ := loginGuest(t, n, "guest")
	rooms := nodetest.Decode[[]adminRoom](t, admin.Call("room.config.reorder", []string{"backstage", "nope", "lounge"}))
	want := []string{"backstage", "lounge", "room_1", "workshop-a"}
	if !slices.Equal(roomIDs(rooms), want) {
		t.Fatalf("reorder reply = %v, want %v", roomIDs(rooms), want)
	}
	for i, r := range rooms {
		if r.SortingPriority != i+1 {
			t.Errorf("%s priority %d, want %d", r.ID, r.SortingPriority, i+1)
		}
	}
	w := nodetest.Decode[worldConfig](t, g.Event("world.updated"))
	if !slices.Equal(w.ids(), want) {
		t.Fatalf("world.updated order = %v, want %v", w.ids(), want)
	}
	if got := roomIDs(configList(t, admin)); !slices.Equal(got, want) {
		t.Fatalf("config.list after reorder = %v", got)
	}
	// An empty list renumbers without reordering.
	if got := roomIDs(nodetest.Decode[[]adminRoom](t, admin.Call("room.config.reorder", []string{}))); !slices.Equal(got, want) {
		t.Fatalf("empty reorder = %v, want %v", got, want)
	}
	if code := admin.CallErr("room.config.reorder", map[string]any{"room": "x"}); code != "protocol.invalid" {
		t.Errorf("reorder with an object: code %q, want protocol.invalid", code)
	}
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	if code := mod.CallErr("room.config.reorder", []string{"lounge"}); code != "protocol.denied" {
		t.Errorf("moderator reorder: code %q, want protocol.denied", code)
	}
}

func TestRoomDelete(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	admin := nodetest.Login(t, n.URL(), "admin", "admin")
	inside, _ := loginGuest(t, n, "inside")
	outside, _ := loginGuest(t, n, "outside")
	enter(t, inside, "lounge")
	enter(t, outside, "room_1")
	if code := inside.CallErr("room.delete", map[string]any{"room": "lounge"}); code != "protocol.denied" {
		t.Fatalf("guest delete: code %q, want protocol.denied", code)
	}
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	if code := mod.CallErr("room.delete", map[string]any{"room": "lounge"}); code != "protocol.denied" {
		t.Fatalf("moderator delete: code %q, want protocol.denied", code)
	}

	if raw := admin.Call("room.delete", map[string]any{"room": "lounge"}); string(raw) != "{}" {
		t.Fatalf("room.delete reply = %s, want {}", raw)
	}
	for name, c := range map[string]*nodetest.Client{"inside": inside, "outside": outside, "admin": admin, "mod": mod} {
		var d struct{ ID string }
		if err := json.Unmarshal(c.Event("room.delete"), &d); err != nil || d.ID != "lounge" {
			t.Errorf("%s: room.delete = %+v, want id lounge", name, d)
		}
	}
	if ids := roomIDs(configList(t, admin)); slices.Contains(ids, "lounge") {
		t.Fatalf("config.list after delete = %v", ids)
	}
	for _, c := range []*nodetest.Client{inside, outside} {
		if code := c.CallErr("room.enter", map[string]any{"room": "lounge"}); code != "room.unknown" {
			t.Errorf("enter a deleted room: code %q, want room.unknown", code)
		}
	}
	if code := inside.CallErr("room.react", map[string]any{"room": "lounge", "reaction": "👏"}); code != "room.unknown" {
		t.Errorf("react in a deleted room: code %q, want room.unknown", code)
	}
	if code := admin.CallErr("room.delete", map[string]any{"room": "lounge"}); code != "room.unknown" {
		t.Errorf("second delete: code %q, want room.unknown", code)
	}
	_, a := loginGuest(t, n, "later")
	if _, ok := a.World.room("lounge"); ok {
		t.Fatal("world.config still lists the deleted room")
	}
	n.WaitMetric(t, "roomring_rooms", func(v float64) bool { return v == 3 })
	n.WaitMetric(t, "roomring_viewers", func(v float64) bool { return v == 1 })
	// Leaving the deleted room, or disconnecting, is harmless.
	inside.Close()
	outside.Call("room.leave", map[string]any{"room": "room_1"})
	n.WaitMetric(t, "roomring_viewers", func(v float64) bool { return v == 0 })
}
