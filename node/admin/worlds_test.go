package admin_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/internal/testkit"
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
		"redirect":       {Spec: withRedirect(*spec, "/standalone/{room}"), Secrets: [][]byte{expoSecret}},
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
	// Its occupancy reaches expo's clients only.
	admin.Wait(5*time.Second, "expo-hall's user count", nodetest.IsEvent("world.user_count_change", "expo-hall"))
	def.Call("room.enter", map[string]any{"room": "room_1"}) // a later event of the same owner, to the default guest
	def.Wait(5*time.Second, "room_1's user count", nodetest.IsEvent("world.user_count_change", "room_1"))
	if def.Has(nodetest.IsEvent("world.user_count_change", "expo-hall")) {
		t.Fatal("the built-in world's client got expo-hall's user count")
	}
	def.Call("room.leave", map[string]any{"room": "room_1"})
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

	expoConns := `roomring_connections{dialect="venueless",world="expo"}`
	if got := n.Metrics(t)[expoConns]; got < 1 {
		t.Fatalf("%s = %v, want its open connections", expoConns, got)
	}

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
	// A deleted world leaves no metric series behind.
	testkit.EventuallyNil(t, 5*time.Second, "expo's series gone", func() error {
		for k := range n.Metrics(t) {
			if strings.Contains(k, `world="expo"`) {
				return fmt.Errorf("still exported: %s", k)
			}
		}
		return nil
	})
}

func withRoles(s v1alpha1.WorldSpec, roles map[string][]string) v1alpha1.WorldSpec {
	s.Roles = roles
	return s
}

func withRedirect(s v1alpha1.WorldSpec, r string) v1alpha1.WorldSpec {
	s.InviteRedirect = r
	return s
}

func withTitle(s v1alpha1.WorldSpec, title string) v1alpha1.WorldSpec {
	s.DisplayName = title
	return s
}

// TestWorldInviteRedirect: a world's invite links use its public URL and
// send the browser to its invite redirect; a code of no world falls back
// to the node's own redirect.
func TestWorldInviteRedirect(t *testing.T) {
	n := startNode(t)
	spec := nodetest.WorldSpec("Expo", map[string]v1alpha1.TraitEntries{"viewer": {}, "moderator": {"moderator"}})
	spec.PublicURL = "https://rooms.example.org"
	spec.InviteRedirect = "https://expo.example.org/standalone/{room}/anonymous#invite={code}"
	nodetest.PutWorld(t, n.Addr(), token, "expo", spec, expoSecret)
	c := nodetest.AdminClient(t, token, n.Addr())
	if _, err := c.PutRoom(context.Background(), "expo-hall", &v1alpha1.RoomSpec{World: "expo", DisplayName: "Expo Hall"}); err != nil {
		t.Fatal(err)
	}
	mod := nodetest.LoginWorld(t, n.Addr(), "expo", expoSecret, "maria", "moderator")
	link := nodetest.Decode[struct{ URL string }](t, mod.Call("room.invite.anonymous.link", map[string]any{"room": "expo-hall"})).URL
	code, ok := strings.CutPrefix(link, "https://rooms.example.org/i/")
	if !ok || code == "" {
		t.Fatalf("invite link %q, want one under the world's public URL", link)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	location := func(code string) string {
		t.Helper()
		resp, err := noFollow.Get(n.HTTPURL() + "/i/" + code)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("GET /i/%s = %d, want 302", code, resp.StatusCode)
		}
		return resp.Header.Get("Location")
	}
	if got, want := location(code), "https://expo.example.org/standalone/expo-hall/anonymous#invite="+code; got != want {
		t.Fatalf("redirect = %q, want %q", got, want)
	}
	// The built-in world's is --invite-redirect's.
	def := nodetest.Login(t, n.URL(), "dora", "moderator")
	link = nodetest.Decode[struct{ URL string }](t, def.Call("room.invite.anonymous.link", map[string]any{"room": "room_1"})).URL
	defCode := link[strings.LastIndex(link, "/")+1:]
	if got := location(defCode); !strings.HasSuffix(got, "/standalone/room_1/anonymous#invite="+defCode) {
		t.Fatalf("built-in world's redirect = %q, want venueless' route (--invite-redirect's default)", got)
	}
	// The code redeems on its own world only.
	if got := nodetest.Dial(t, n.URL()).AuthErr(map[string]any{"client_id": "x", "invite_token": code}); got != "auth.denied" {
		t.Fatalf("expo's invite on the built-in world = %s, want auth.denied", got)
	}
	nodetest.Dial(t, nodetest.WorldURL(n.Addr(), "expo")).Auth(map[string]any{"client_id": "x", "invite_token": code})
}

// TestWorldQuotas: a world's connection quota refuses its clients beyond
// it (close 1013) without touching other worlds, and its frame quota
// answers protocol.rate_limited to the operations over it.
func TestWorldQuotas(t *testing.T) {
	n := startNode(t)
	spec := nodetest.WorldSpec("Small", map[string]v1alpha1.TraitEntries{"viewer": {}})
	spec.Quotas = v1alpha1.WorldQuotas{Connections: 2, FramesPerSecond: 1}
	nodetest.PutWorld(t, n.Addr(), token, "small", spec, expoSecret)

	a := nodetest.LoginWorld(t, n.Addr(), "small", expoSecret, "a")
	nodetest.LoginWorld(t, n.Addr(), "small", expoSecret, "b")
	third := nodetest.Dial(t, nodetest.WorldURL(n.Addr(), "small"))
	var ce *websocket.CloseError
	if err := third.Closed(5 * time.Second); !errors.As(err, &ce) || ce.Code != 1013 {
		t.Fatalf("third connection of a world of 2: %v, want close 1013", err)
	}
	nodetest.Guest(t, n, "elsewhere") // the built-in world is not limited by it

	// One operation a second, for all the world's clients: of ten sent
	// at once, the bucket (one second's worth) admits the first and, for
	// the others to pass, they would have to be spread over nine seconds.
	for range 10 {
		a.Send("room.config.list", map[string]any{})
	}
	a.Wait(10*time.Second, "a world quota refusal", func(f nodetest.Frame) bool {
		return f.Kind() == "error" && strings.Contains(f.String(), "protocol.rate_limited") && strings.Contains(f.String(), "quota")
	})
}

// TestWorldReactions: a world's reactions are those of its rooms that do
// not restrict theirs; a room's own list wins.
func TestWorldReactions(t *testing.T) {
	n := startNode(t)
	spec := nodetest.WorldSpec("Quiet", map[string]v1alpha1.TraitEntries{"viewer": {}})
	spec.Reactions = []string{"👏"}
	nodetest.PutWorld(t, n.Addr(), token, "quiet", spec, expoSecret)
	c := nodetest.AdminClient(t, token, n.Addr())
	for id, reactions := range map[string][]string{"plain": nil, "own": {"👍", "❤️"}} {
		if _, err := c.PutRoom(context.Background(), id, &v1alpha1.RoomSpec{World: "quiet", DisplayName: id, Reactions: reactions}); err != nil {
			t.Fatal(err)
		}
	}
	u := nodetest.Dial(t, nodetest.WorldURL(n.Addr(), "quiet"))
	w := nodetest.Decode[struct {
		World struct {
			Rooms []struct {
				ID        string   `json:"id"`
				Reactions []string `json:"allowed_reactions"`
			} `json:"rooms"`
		} `json:"world.config"`
	}](t, u.Auth(map[string]any{"token": nodetest.TokenFor(t, expoSecret, "quinn")}))
	got := map[string][]string{}
	for _, r := range w.World.Rooms {
		got[r.ID] = r.Reactions
	}
	if !slices.Equal(got["plain"], []string{"👏"}) || !slices.Equal(got["own"], []string{"👍", "❤️"}) {
		t.Fatalf("allowed reactions = %v, want plain [👏] and own [👍 ❤️]", got)
	}
	u.Call("room.enter", map[string]any{"room": "plain"})
	if code := u.CallErr("room.react", map[string]any{"room": "plain", "reaction": "❤️"}); code != "room.unknown_reaction" {
		t.Fatalf("❤️ in plain = %s, want room.unknown_reaction", code)
	}
	u.Call("room.react", map[string]any{"room": "plain", "reaction": "👏"})
}
