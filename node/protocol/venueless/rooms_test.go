package venueless_test

import (
	"slices"
	"testing"

	"github.com/roomring/roomring/node/nodetest"
)

func TestEnterAndLeave(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	c, _ := loginGuest(t, n, "walker")
	r := enter(t, c, "room_1")
	if r.Viewers != nil {
		t.Fatalf("a viewer without room:viewers got viewers %v", r.Viewers)
	}
	if raw := c.Call("room.enter", map[string]any{"room": "room_1"}); string(raw) != "{}" {
		t.Fatalf("room.enter reply = %s, want {}", raw)
	}
	if raw := c.Call("room.leave", map[string]any{"room": "room_1"}); string(raw) != "{}" {
		t.Fatalf("room.leave reply = %s, want {}", raw)
	}
	// Leaving a room one is not in is not an error (venueless: success).
	c.Call("room.leave", map[string]any{"room": "lounge"})
}

func TestEnterUnknownRoom(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	c, _ := loginGuest(t, n, "lost")
	for _, body := range []map[string]any{{"room": "no-such-room"}, {"room": ""}, {}} {
		if code := c.CallErr("room.enter", body); code != "room.unknown" {
			t.Errorf("room.enter %v: code %q, want room.unknown", body, code)
		}
	}
	if code := c.CallErr("room.leave", map[string]any{"room": "no-such-room"}); code != "room.unknown" {
		t.Errorf("room.leave of an unknown room: code %q, want room.unknown", code)
	}
	if code := c.CallErr("room.react", map[string]any{"room": "no-such-room", "reaction": "👏"}); code != "room.unknown" {
		t.Errorf("room.react in an unknown room: code %q, want room.unknown", code)
	}
}

func TestViewersOnlyWithPermission(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	g, _ := loginGuest(t, n, "guest")
	enter(t, g, "room_1")

	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	r := enter(t, mod, "room_1")
	if ids := viewerIDs(r.Viewers); len(ids) != 2 || !slices.Contains(ids, "mod") {
		t.Fatalf("moderator's viewers = %v, want the guest and mod", ids)
	}
	for _, v := range r.Viewers {
		if v.ID == "mod" && v.Profile["display_name"] != "mod" {
			t.Errorf("viewer profile = %v, want the token's profile", v.Profile)
		}
	}

	// A guest entering another room never sees viewers.
	if r := enter(t, g, "lounge"); r.Viewers != nil {
		t.Fatalf("guest got viewers %v", r.Viewers)
	}
	// In workshop-a everyone is a participant: a guest sees the viewers.
	if r := enter(t, g, "workshop-a"); r.Viewers == nil {
		t.Fatal("a guest in workshop-a got no viewers")
	}
	// In backstage the speaker trait grants moderator: viewers are shown.
	sp := nodetest.Login(t, n.URL(), "speaker-1", "speaker")
	if r := enter(t, sp, "backstage"); r.Viewers == nil {
		t.Fatal("a speaker in backstage got no viewers")
	}
	if r := enter(t, sp, "room_1"); r.Viewers != nil {
		t.Fatalf("a speaker in room_1 got viewers %v", r.Viewers)
	}
}

// TestViewerEventsOnlyToViewersPermission: room.viewer.added/removed reach
// sockets with room:viewers, never others, and nobody hears about themselves.
func TestViewerEventsOnlyToViewersPermission(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	enter(t, mod, "room_1")
	plain, plainAuth := loginGuest(t, n, "plain")
	enter(t, plain, "room_1")
	added := nodetest.Decode[struct{ User user }](t, mod.Event("room.viewer.added"))
	if added.User.ID != plainAuth.User.ID {
		t.Fatalf("viewer.added = %+v, want %s", added.User, plainAuth.User.ID)
	}

	u := nodetest.Login(t, n.URL(), "newcomer")
	enter(t, u, "room_1")
	a := nodetest.Decode[struct{ User user }](t, mod.Event("room.viewer.added"))
	if a.User.ID != "newcomer" || a.User.Profile["display_name"] != "newcomer" {
		t.Fatalf("viewer.added = %+v, want newcomer with profile", a.User)
	}
	u.Call("room.leave", map[string]any{"room": "room_1"})
	rm := nodetest.Decode[struct {
		UserID string `json:"user_id"`
	}](t, mod.Event("room.viewer.removed"))
	if rm.UserID != "newcomer" {
		t.Fatalf("viewer.removed = %+v, want newcomer", rm)
	}

	// Marker: the schedule push reaches everyone in the room after the viewer
	// events above (one room's events are delivered in order), so the plain
	// viewer has had every viewer event it would ever get by then.
	mod.Call("room.schedule", map[string]any{"room": "room_1", "schedule_data": map[string]any{"title": "marker"}})
	plain.Wait(wait, "schedule marker", nodetest.IsEvent("room.schedule", "room_1"))
	if plain.Has(func(f nodetest.Frame) bool {
		return f.Kind() == "room.viewer.added" || f.Kind() == "room.viewer.removed"
	}) {
		t.Fatal("a socket without room:viewers got viewer events")
	}
	mod.Wait(wait, "schedule marker", nodetest.IsEvent("room.schedule", "room_1"))
	if mod.Has(func(f nodetest.Frame) bool { return f.Kind() == "room.viewer.added" }) {
		t.Fatal("the moderator got a viewer.added beyond plain's and newcomer's (about themselves?)")
	}
}

// TestViewerOncePerUser: a user with two sockets is one viewer — added on the
// first socket's enter, removed after the last socket's leave.
func TestViewerOncePerUser(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	enter(t, mod, "room_1")

	isAbout := func(kind, uid string) func(nodetest.Frame) bool {
		return func(f nodetest.Frame) bool {
			if f.Kind() != kind {
				return false
			}
			var d struct {
				User   user   `json:"user"`
				UserID string `json:"user_id"`
			}
			f.Decode(t, 1, &d)
			return d.User.ID == uid || d.UserID == uid
		}
	}
	// marker makes a different user enter or leave and waits until mod sees
	// it: every event about "twin" published before it has arrived by then.
	other := nodetest.Login(t, n.URL(), "other")
	marker := func(action, kind string) {
		other.Call(action, map[string]any{"room": "room_1"})
		mod.Wait(wait, kind+" other", isAbout(kind, "other"))
	}

	s1 := nodetest.Login(t, n.URL(), "twin")
	s2 := nodetest.Login(t, n.URL(), "twin")
	enter(t, s1, "room_1")
	mod.Wait(wait, "twin added", isAbout("room.viewer.added", "twin"))
	enter(t, s2, "room_1")
	marker("room.enter", "room.viewer.added")
	if mod.Has(isAbout("room.viewer.added", "twin")) {
		t.Fatal("the second socket of the same user was announced again")
	}
	// A third party with room:viewers sees the twin once.
	mod2 := nodetest.Login(t, n.URL(), "mod2", "moderator")
	if ids := viewerIDs(enter(t, mod2, "room_1").Viewers); !slices.Equal(ids, []string{"mod", "mod2", "other", "twin"}) {
		t.Fatalf("viewers = %v, want mod, mod2, other, twin once each", ids)
	}

	s1.Call("room.leave", map[string]any{"room": "room_1"})
	marker("room.leave", "room.viewer.removed")
	if mod.Has(isAbout("room.viewer.removed", "twin")) {
		t.Fatal("twin removed while their second socket is still in the room")
	}
	s2.Call("room.leave", map[string]any{"room": "room_1"})
	mod.Wait(wait, "twin removed", isAbout("room.viewer.removed", "twin"))
}

// TestDisconnectIsLeave: closing a socket leaves its rooms exactly like
// room.leave, including the once-per-user rule.
func TestDisconnectIsLeave(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	enter(t, mod, "room_1")
	enter(t, mod, "lounge")

	removed := func(uid string) func(nodetest.Frame) bool {
		return func(f nodetest.Frame) bool {
			if f.Kind() != "room.viewer.removed" {
				return false
			}
			var d struct {
				UserID string `json:"user_id"`
			}
			f.Decode(t, 1, &d)
			return d.UserID == uid
		}
	}

	solo := nodetest.Login(t, n.URL(), "solo")
	enter(t, solo, "room_1")
	enter(t, solo, "lounge")
	solo.Close()
	mod.Wait(wait, "solo removed from one room", removed("solo"))
	mod.Wait(wait, "solo removed from the other room", removed("solo"))

	a := nodetest.Login(t, n.URL(), "dual")
	b := nodetest.Login(t, n.URL(), "dual")
	enter(t, a, "room_1")
	enter(t, b, "room_1")
	a.Close()
	// The server has processed a's disconnect once the connection gauge
	// drops to mod and b; a removal of dual it published would then be
	// queued before the marker (other's enter and leave) reaches mod.
	n.WaitMetric(t, `roomring_connections{dialect="venueless",world="default"}`, func(v float64) bool { return v == 2 })
	other := nodetest.Login(t, n.URL(), "other")
	enter(t, other, "room_1")
	other.Call("room.leave", map[string]any{"room": "room_1"})
	mod.Wait(wait, "other removed", removed("other"))
	if mod.Has(removed("dual")) {
		t.Fatal("dual removed while their second socket is still in the room")
	}
	b.Close()
	mod.Wait(wait, "dual removed", removed("dual"))
	if got := n.WaitMetric(t, "roomring_viewers", func(v float64) bool { return v == 2 }); got != 2 {
		t.Fatalf("viewers = %v, want 2 (mod in two rooms)", got)
	}
}

// TestIncognitoViewerHidden: a user with privacyMode 1 is never listed nor
// announced to others.
func TestIncognitoViewerHidden(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	enter(t, mod, "room_1")
	inc := nodetest.Dial(t, n.URL())
	inc.Auth(map[string]any{"token": nodetest.Token(t, "ghost", nil, map[string]any{"privacyMode": 1})})
	enter(t, inc, "room_1")
	other := nodetest.Login(t, n.URL(), "other")
	enter(t, other, "room_1")
	a := nodetest.Decode[struct{ User user }](t, mod.Event("room.viewer.added"))
	if a.User.ID != "other" {
		t.Fatalf("first viewer.added is about %s, want other (the incognito user is not announced)", a.User.ID)
	}
	mod2 := nodetest.Login(t, n.URL(), "mod2", "moderator")
	if ids := viewerIDs(enter(t, mod2, "room_1").Viewers); slices.Contains(ids, "ghost") {
		t.Fatalf("viewers %v list the incognito user", ids)
	}
}
