// Package venueless_test runs venueless' own web-app code — its Vuex
// store, lib/api.js and lib/WebSocketClient.js, and its router's route
// table — under Node against a running roomring node (agent.mjs), and
// checks that the store sees what it would see against venueless: the
// schedule switch, the admin's create buttons, the rooms' user counts,
// anonymous invitees hidden from viewer lists and the invite link's
// redirect.
//
// The web app's code is extracted at test time from a venueless git
// repository at PinnedCommit (VENUELESS_SRC, default DefaultSrc) and never
// committed here; without one the tests skip, saying how to provide it.
// The npm packages it imports are installed by hack/setup-test-deps.sh
// (npm ci in this directory).
package venueless_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
)

// wait is how long the store may take to reflect a push.
const wait = 10 * time.Second

func token(t *testing.T, uid string, traits ...string) map[string]any {
	return map[string]any{"token": nodetest.Token(t, uid, traits, map[string]any{"display_name": uid})}
}

// TestWebAppStore drives the web app's store against one dev node (the
// sample rooms; room_1 is a stage, which the store enters on changeRoom).
//
// Long: one scenario through every behaviour the web app needs, in the
// order a user meets them, sharing the agent's bundle.
func TestWebAppStore(t *testing.T) {
	a := startAgent(t)
	n := nodetest.StartWith(t)
	url := n.URL()

	// The watcher never enters a room; it sees each room's user count.
	watcher := a.client("watcher", url, map[string]any{"clientId": "watcher"})
	if u := watcher.users("room_1"); u == nil || *u != "none" {
		t.Fatalf("room_1 users in world.config = %v, want none", u)
	}

	// The admin's create buttons (RoomsSidebar, CreateChatPrompt).
	createPerms := []string{"world:rooms.create.stage", "world:rooms.create.chat", "world:rooms.create.bbb"}
	a.client("admin", url, token(t, "admin", "admin"))
	var can map[string]bool
	a.do("can", map[string]any{"name": "admin", "permissions": createPerms}, &can)
	for _, p := range createPerms {
		if !can[p] {
			t.Errorf("the admin's store: hasPermission(%s) = false", p)
		}
	}
	a.do("can", map[string]any{"name": "watcher", "permissions": createPerms}, &can)
	for _, p := range createPerms {
		if can[p] {
			t.Errorf("a guest's store: hasPermission(%s) = true", p)
		}
	}
	a.do("createRoom", map[string]any{"name": "admin", "body": map[string]any{"name": "Hallway", "description": "",
		"modules": []any{map[string]any{"type": "chat.native", "config": map[string]any{"volatile": false}}}}}, nil)
	if r := a.try("createRoom", map[string]any{"name": "watcher", "body": map[string]any{"name": "Mine", "description": "",
		"modules": []any{map[string]any{"type": "chat.native"}}}}); r.OK || r.Error != "protocol.denied" {
		t.Errorf("a guest's createRoom: ok %v, error %q; want protocol.denied", r.OK, r.Error)
	}

	// The admin enters room_1: the watcher's sidebar shows it busy.
	var st storeState
	a.do("changeRoom", map[string]any{"name": "admin", "room": "room_1"}, &st)
	if !slices.Contains(st.RoomViewers, "admin") {
		t.Fatalf("the admin's roomViewers = %v", st.RoomViewers)
	}
	waitUsers(t, a, "watcher", "room_1", "few")

	// The schedule panel's switch, on and off.
	a.do("schedule", map[string]any{"name": "admin", "room": "room_1", "schedule_data": map[string]any{"computeSession": true}}, nil)
	testkit.Eventually(t, wait, "computeSession in the admin's store", func() bool {
		return a.state("admin").schedule("room_1")["computeSession"] == true
	})
	a.do("schedule", map[string]any{"name": "admin", "room": "room_1", "schedule_data": nil}, nil)
	testkit.Eventually(t, wait, "the schedule cleared in the admin's store", func() bool {
		return a.state("admin").schedule("room_1") == nil
	})

	// Ten more users: the room is busy; they leave: it is not.
	var crowd []*nodetest.Client
	for i := range 10 {
		c := nodetest.Guest(t, n, fmt.Sprintf("crowd-%d", i))
		c.Call("room.enter", map[string]any{"room": "room_1"})
		crowd = append(crowd, c)
	}
	waitUsers(t, a, "watcher", "room_1", "many")
	for _, c := range crowd {
		c.Close()
	}
	waitUsers(t, a, "watcher", "room_1", "few")

	// An anonymous invitee, through the invite link as the web app
	// follows it, is counted but never listed.
	mod := nodetest.Login(t, url, "mod", "moderator")
	link := nodetest.Decode[struct{ URL string }](t, mod.Call("room.invite.anonymous.link", map[string]any{"room": "room_1"}))
	loc := redirect(t, link.URL)
	var route struct {
		Name, RoomID, Invite string
	}
	a.do("route", map[string]any{"url": loc}, &route)
	if route.Name != "standalone:anonymous" || route.RoomID != "room_1" || route.Invite == "" {
		t.Fatalf("the web app reads the invite redirect %s as %+v", loc, route)
	}
	kiosk := a.client("kiosk", url, map[string]any{"clientId": "kiosk-1", "inviteToken": route.Invite})
	if len(kiosk.Rooms) != 1 || kiosk.Rooms[0].ID != "room_1" {
		t.Fatalf("the invitee's rooms = %+v", kiosk.Rooms)
	}
	a.do("changeRoom", map[string]any{"name": "kiosk", "room": "room_1"}, nil)
	guest := a.client("guest", url, map[string]any{"clientId": "guest-1"})
	a.do("changeRoom", map[string]any{"name": "guest", "room": "room_1"}, nil)
	// Viewer events of a room arrive in order: once the guest is listed,
	// an added for the invitee would have been too.
	testkit.Eventually(t, wait, "the guest in the admin's roomViewers", func() bool {
		return slices.Contains(a.state("admin").RoomViewers, guest.User.ID)
	})
	if v := a.state("admin").RoomViewers; slices.Contains(v, kiosk.User.ID) {
		t.Fatalf("the admin's roomViewers %v list the invitee %s", v, kiosk.User.ID)
	}
	a.client("mod2", url, token(t, "mod2", "moderator"))
	a.do("changeRoom", map[string]any{"name": "mod2", "room": "room_1"}, &st)
	if slices.Contains(st.RoomViewers, kiosk.User.ID) || !slices.Contains(st.RoomViewers, guest.User.ID) {
		t.Fatalf("room.enter's viewers %v: want the guest, not the invitee", st.RoomViewers)
	}
	a.do("close", map[string]any{"name": "kiosk"}, nil)
	a.do("close", map[string]any{"name": "guest"}, nil)
	testkit.Eventually(t, wait, "the guest gone from the admin's roomViewers", func() bool {
		return !slices.Contains(a.state("admin").RoomViewers, guest.User.ID)
	})
}

// waitUsers waits until name's store shows room's users as want.
func waitUsers(t *testing.T, a *agent, name, room, want string) {
	t.Helper()
	testkit.Eventually(t, wait, fmt.Sprintf("%s's store to show %s's users as %s", name, room, want), func() bool {
		u := a.state(name).users(room)
		return u != nil && *u == want
	})
}

// redirect GETs an invite link without following it and returns where it
// redirects.
func redirect(t *testing.T, link string) string {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET %s: %s, want a redirect", link, resp.Status)
	}
	return resp.Header.Get("Location")
}
