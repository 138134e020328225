package admin_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/node/nodetest"
)

var expoSecret = bytes.Repeat([]byte("e"), 32)

// Long: one world through create, serve, reject, replace and delete over
// the admin API, each step checked with real websocket clients.
func TestWorldLifecycle(t *testing.T) {
	n := startNode(t)
	addr := n.Addr()
	spec := nodetest.WorldSpec("Expo 2026", map[string]v1alpha1.TraitEntries{"viewer": {}, "admin": {"admin"}})

	if code, e := nodetest.AdminDo(t, addr, token, http.MethodGet, "worlds/expo", nil, nil); code != http.StatusNotFound || e.Code != "world.unknown" {
		t.Fatalf("GET unknown world = %d %+v, want 404 world.unknown", code, e)
	}
	if got := nodetest.DialStatus(t, nodetest.WorldURL(addr, "expo")); got != http.StatusNotFound {
		t.Fatalf("upgrade at an unknown world = %d, want 404", got)
	}
	st := nodetest.PutWorld(t, addr, token, "expo", spec, expoSecret)
	if st.Change != "created" || st.ID != "expo" || st.Node != "node-a" || st.Rooms != 0 || st.Connections != 0 {
		t.Fatalf("PUT new world = %+v, want created, no rooms", st)
	}
	if st = nodetest.PutWorld(t, addr, token, "expo", spec, expoSecret); st.Change != "unchanged" {
		t.Fatalf("PUT same world = %+v, want unchanged", st)
	}
	var list adminapi.WorldList
	if code, _ := nodetest.AdminDo(t, addr, token, http.MethodGet, "worlds", nil, &list); code != http.StatusOK || !slices.Equal(list.Worlds, []string{"default", "expo"}) {
		t.Fatalf("GET worlds = %d %v, want [default expo]", code, list.Worlds)
	}

	// Bad specs are 422 config.invalid; nothing changes.
	for name, put := range map[string]adminapi.PutWorld{
		"short secret":   {Spec: *spec, Secrets: [][]byte{[]byte("short")}},
		"secret missing": {Spec: *spec},
		"unknown perm":   {Spec: withRoles(*spec, map[string][]string{"x": {"room:fly"}}), Secrets: [][]byte{expoSecret}},
		"blank title":    {Spec: withTitle(*spec, "  "), Secrets: [][]byte{expoSecret}},
	} {
		if code, e := nodetest.AdminDo(t, addr, token, http.MethodPut, "worlds/expo", put, nil); code != http.StatusUnprocessableEntity || e.Code != "config.invalid" {
			t.Fatalf("PUT %s = %d %+v, want 422 config.invalid", name, code, e)
		}
	}

	// The world's clients: its own token works, the built-in world's does not.
	admin := nodetest.LoginWorld(t, addr, "expo", expoSecret, "alice", "admin")
	other := nodetest.Dial(t, nodetest.WorldURL(addr, "expo"))
	if code := other.AuthErr(map[string]any{"token": nodetest.Token(t, "bob", nil, nil)}); code != "auth.invalid_token" {
		t.Fatalf("built-in world's token on expo = %s, want auth.invalid_token", code)
	}
	if code := nodetest.Dial(t, nodetest.WorldURL(addr, "expo")).AuthErr(map[string]any{"client_id": "g"}); code != "auth.denied" {
		t.Fatalf("guest on expo (guests not allowed) = %s, want auth.denied", code)
	}
	def := nodetest.Guest(t, n, "default-guest")

	// A Room of expo reaches expo's clients, not the built-in world's.
	c := nodetest.AdminClient(t, token, addr)
	if _, err := c.PutRoom(context.Background(), "expo-hall", &v1alpha1.RoomSpec{World: "expo", DisplayName: "Expo Hall"}); err != nil {
		t.Fatal(err)
	}
	if rc := nodetest.Decode[nodetest.RoomConfig](t, admin.Event("room.create")); rc.ID != "expo-hall" {
		t.Fatalf("room.create on expo = %+v", rc)
	}
	if code := def.CallErr("room.enter", map[string]any{"room": "expo-hall"}); code != "room.unknown" {
		t.Fatalf("default client entering expo's room = %s, want room.unknown", code)
	}
	if code := admin.CallErr("room.enter", map[string]any{"room": "room_1"}); code != "room.unknown" {
		t.Fatalf("expo client entering a default room = %s, want room.unknown", code)
	}
	admin.Call("room.enter", map[string]any{"room": "expo-hall"})
	if code, _ := nodetest.AdminDo(t, addr, token, http.MethodGet, "worlds/expo", nil, &st); code != http.StatusOK || st.Rooms != 1 || st.Connections != 1 {
		t.Fatalf("GET expo = %d %+v, want 1 room, 1 connection", code, st)
	}

	// Replacing the world keeps its clients: a renamed world is a
	// world.updated with the new title.
	spec.DisplayName = "Expo 2026 (day 2)"
	if st = nodetest.PutWorld(t, addr, token, "expo", spec, expoSecret); st.Change != "updated" {
		t.Fatalf("PUT renamed world = %+v, want updated", st)
	}
	admin.Event("world.updated")

	// Deleting it closes its clients and its address.
	if code, e := nodetest.AdminDo(t, addr, token, http.MethodDelete, "worlds/expo", nil, nil); code != http.StatusNoContent {
		t.Fatalf("DELETE expo = %d %+v", code, e)
	}
	admin.Wait(5*time.Second, "world.closed", func(f nodetest.Frame) bool { return f.Kind() == "error" })
	var ce *websocket.CloseError
	if err := admin.Closed(5 * time.Second); !errors.As(err, &ce) {
		t.Fatalf("expo client after DELETE: %v, want a close frame", err)
	}
	if code, e := nodetest.AdminDo(t, addr, token, http.MethodGet, "worlds/expo", nil, nil); code != http.StatusNotFound || e.Code != "world.unknown" {
		t.Fatalf("GET deleted world = %d %+v, want 404 world.unknown", code, e)
	}
	if code, e := nodetest.AdminDo(t, addr, token, http.MethodDelete, "worlds/expo", nil, nil); code != http.StatusNotFound || e.Code != "world.unknown" {
		t.Fatalf("DELETE deleted world = %d %+v, want 404 world.unknown", code, e)
	}
	if got := nodetest.DialStatus(t, nodetest.WorldURL(addr, "expo")); got != http.StatusNotFound {
		t.Fatalf("upgrade at a deleted world = %d, want 404", got)
	}
	def.Call("room.enter", map[string]any{"room": "room_1"}) // the built-in world is untouched
}

func withRoles(s v1alpha1.WorldSpec, roles map[string][]string) v1alpha1.WorldSpec {
	s.Roles = roles
	return s
}

func withTitle(s v1alpha1.WorldSpec, title string) v1alpha1.WorldSpec {
	s.DisplayName = title
	return s
}
