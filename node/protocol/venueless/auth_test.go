package venueless_test

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/nodetest"
)

func TestPingBeforeAuth(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	c := nodetest.Dial(t, n.URL())
	c.SendRaw(`["ping", 1716000000.5]`)
	f := c.Wait(wait, "pong", func(f nodetest.Frame) bool { return f.Kind() == "pong" })
	if len(f) != 2 || string(f[1]) != "1716000000.5" {
		t.Fatalf("pong = %s, want [\"pong\",1716000000.5]", f)
	}
	// venueless echoes the second element, also of a three-element ping.
	c.SendRaw(`["ping", "abc", {}]`)
	f = c.Wait(wait, "pong", func(f nodetest.Frame) bool { return f.Kind() == "pong" })
	if len(f) != 2 || string(f[1]) != `"abc"` {
		t.Fatalf("pong = %s, want [\"pong\",\"abc\"]", f)
	}
}

func TestActionBeforeAuthIsUnauthenticated(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	c := nodetest.Dial(t, n.URL())
	for _, action := range []string{"room.enter", "room.config.list", "no.such.action"} {
		if code := c.CallErr(action, map[string]any{"room": "room_1"}); code != "protocol.unauthenticated" {
			t.Errorf("%s before authenticate: code %q, want protocol.unauthenticated", action, code)
		}
	}
	// The connection is still good for authenticating.
	c.Auth(map[string]any{"client_id": "late"})
	enter(t, c, "room_1")
}

func TestAuthenticateWithToken(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	c := nodetest.Dial(t, n.URL())
	tok := nodetest.Token(t, "alice", []string{"moderator"}, map[string]any{"display_name": "Alice"})
	a := nodetest.Decode[authenticated](t, c.Auth(map[string]any{"token": tok}))
	if a.User.ID != "alice" || a.User.Profile["display_name"] != "Alice" {
		t.Fatalf("user.config = %+v, want alice with her profile", a.User)
	}
	if a.World.World.ID != "default" {
		t.Errorf("world.config.world.id = %q, want default", a.World.World.ID)
	}
	if want := []string{"room_1", "workshop-a", "lounge", "backstage"}; !slices.Equal(a.World.ids(), want) {
		t.Fatalf("world.config.rooms = %v, want %v (by sorting priority)", a.World.ids(), want)
	}
	r, _ := a.World.room("room_1")
	for _, p := range []string{"room:view", "room:react", "room:viewers", "room:announce", "room:invite.anonymous"} {
		if !slices.Contains(r.Permissions, p) {
			t.Errorf("moderator's room_1 permissions %v lack %s", r.Permissions, p)
		}
	}
	if slices.Contains(r.Permissions, "room:update") {
		t.Errorf("moderator's room_1 permissions %v include room:update", r.Permissions)
	}
	if r.ScheduleData["title"] != "Opening keynote" {
		t.Errorf("room_1 schedule_data = %v, want the manifest's title", r.ScheduleData)
	}
	w, _ := a.World.room("workshop-a")
	if want := []string{"👏", "👍", "😮"}; !slices.Equal(w.AllowedReactions, want) {
		t.Errorf("workshop-a allowed_reactions = %v, want %v", w.AllowedReactions, want)
	}
}

// TestAuthenticatedPermissionsPerUser checks that world.config carries each
// user's own permissions: world-wide roles and per-room trait grants.
func TestAuthenticatedPermissionsPerUser(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	cases := []struct {
		name        string
		traits      []string
		world       []string // must be in world.config.permissions
		notWorld    []string
		room1       []string // exactly room_1's permissions
		backstageOK []string // must be in backstage's permissions
	}{
		{name: "viewer", traits: nil, notWorld: []string{"world:rooms.create", "room:update"},
			room1: []string{"room:view", "room:react"}},
		{name: "speaker", traits: []string{"speaker"}, notWorld: []string{"room:viewers"},
			room1:       []string{"room:view", "room:react"},
			backstageOK: []string{"room:viewers", "room:announce"}},
		{name: "admin", traits: []string{"admin"}, world: []string{"world:rooms.create", "room:update", "room:delete"},
			room1: []string{"room:view", "room:react", "room:viewers", "room:announce", "room:invite.anonymous",
				"room:update", "room:delete"}},
	}
	for _, tc := range cases {
		c := nodetest.Dial(t, n.URL())
		a := nodetest.Decode[authenticated](t, c.Auth(map[string]any{"token": nodetest.Token(t, "u-"+tc.name, tc.traits, nil)}))
		for _, p := range tc.world {
			if !slices.Contains(a.World.Permissions, p) {
				t.Errorf("%s: world permissions %v lack %s", tc.name, a.World.Permissions, p)
			}
		}
		for _, p := range tc.notWorld {
			if slices.Contains(a.World.Permissions, p) {
				t.Errorf("%s: world permissions %v include %s", tc.name, a.World.Permissions, p)
			}
		}
		r, _ := a.World.room("room_1")
		if !slices.Equal(r.Permissions, tc.room1) {
			t.Errorf("%s: room_1 permissions %v, want %v", tc.name, r.Permissions, tc.room1)
		}
		b, _ := a.World.room("backstage")
		for _, p := range tc.backstageOK {
			if !slices.Contains(b.Permissions, p) {
				t.Errorf("%s: backstage permissions %v lack %s", tc.name, b.Permissions, p)
			}
		}
	}
}

func TestAuthenticateExpiredToken(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	c := nodetest.Dial(t, n.URL())
	tok, err := auth.Sign([]byte(nodetest.Secret), "alice", nil, nil, -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if code := c.AuthErr(map[string]any{"token": tok}); code != "auth.expired_token" {
		t.Fatalf("expired token: code %q, want auth.expired_token", code)
	}
	// Still unauthenticated, still connected: a fresh token works.
	if code := c.CallErr("room.enter", map[string]any{"room": "room_1"}); code != "protocol.unauthenticated" {
		t.Fatalf("after a failed authenticate: code %q, want protocol.unauthenticated", code)
	}
	c.Auth(map[string]any{"token": nodetest.Token(t, "alice", nil, nil)})
}

func TestAuthenticateInvalidTokens(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	exp := jwt.NewNumericDate(time.Now().Add(time.Hour))
	wrongKey, err := auth.Sign([]byte("another-secret-0123456789abcdef"), "alice", nil, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{"uid": "alice", "exp": exp}).
		SignedString([]byte(nodetest.Secret))
	if err != nil {
		t.Fatal(err)
	}
	noUID, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"exp": exp}).SignedString([]byte(nodetest.Secret))
	if err != nil {
		t.Fatal(err)
	}
	seg := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	algNone := seg(map[string]any{"alg": "none", "typ": "JWT"}) + "." + seg(map[string]any{"uid": "alice", "exp": exp.Unix()}) + "."
	valid := nodetest.Token(t, "alice", nil, nil)
	tampered := valid[:strings.LastIndexByte(valid, '.')] + "." + seg("forged")

	c := nodetest.Dial(t, n.URL())
	for name, tok := range map[string]string{
		"wrong key": wrongKey, "alg none": algNone, "HS512": hs512, "no uid": noUID,
		"tampered signature": tampered, "garbage": "not-a-jwt",
	} {
		if code := c.AuthErr(map[string]any{"token": tok}); code != "auth.invalid_token" {
			t.Errorf("%s: code %q, want auth.invalid_token", name, code)
		}
	}
	c.Auth(map[string]any{"token": valid})
}

func TestAuthenticateGuest(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	c := nodetest.Dial(t, n.URL())
	a := nodetest.Decode[authenticated](t, c.Auth(map[string]any{"client_id": "browser-1", "profile": map[string]any{"display_name": "Guest One", "evil": "x"}}))
	if !strings.HasPrefix(a.User.ID, "guest-") {
		t.Errorf("guest id = %q, want a guest- id", a.User.ID)
	}
	if a.User.Profile["display_name"] != "Guest One" || a.User.Profile["evil"] != nil {
		t.Errorf("guest profile = %v, want only display_name", a.User.Profile)
	}
	r, ok := a.World.room("room_1")
	if !ok || !slices.Equal(r.Permissions, []string{"room:view", "room:react"}) {
		t.Errorf("guest room_1 = %+v, want viewer permissions", r)
	}
	// The same client_id is the same user.
	c2 := nodetest.Dial(t, n.URL())
	a2 := nodetest.Decode[authenticated](t, c2.Auth(map[string]any{"client_id": "browser-1"}))
	if a2.User.ID != a.User.ID {
		t.Errorf("same client_id gave ids %q and %q", a.User.ID, a2.User.ID)
	}
}

func TestAuthenticateGuestNotAllowed(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t, func(c *node.Config) { c.Dev = false; c.AllowGuests = false })
	c := nodetest.Dial(t, n.URL())
	if code := c.AuthErr(map[string]any{"client_id": "browser-1"}); code != "auth.denied" {
		t.Fatalf("guest on a world without guests: code %q, want auth.denied", code)
	}
	c.Auth(map[string]any{"token": nodetest.Token(t, "alice", nil, nil)})
}

func TestAuthenticateMissingIDOrToken(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	c := nodetest.Dial(t, n.URL())
	for _, body := range []string{`{}`, `{"client_id": ""}`, `{"token": ""}`, `"a string"`, `null`, `[1]`} {
		c.SendRaw(`["authenticate", ` + body + `]`)
		f := c.Wait(wait, "error", func(f nodetest.Frame) bool { return f.Kind() == "error" || f.Kind() == "authenticated" })
		var e struct{ Code string }
		f.Decode(t, len(f)-1, &e)
		if f.Kind() != "error" || e.Code != "auth.missing_id_or_token" {
			t.Errorf("authenticate %s: got %s, want auth.missing_id_or_token", body, f)
		}
	}
	c.SendRaw(`["authenticate"]`)
	f := c.Wait(wait, "error", func(f nodetest.Frame) bool { return f.Kind() == "error" })
	if !strings.Contains(string(f[1]), "auth.missing_id_or_token") {
		t.Errorf(`["authenticate"]: got %s, want auth.missing_id_or_token`, f)
	}
	// With an id (venueless reads the last element), the reply carries it.
	c.SendRaw(`["authenticate", 7, {}]`)
	f = c.Reply(7)
	if f.Kind() != "error" || !strings.Contains(string(f[2]), "auth.missing_id_or_token") {
		t.Errorf(`["authenticate", 7, {}]: got %s`, f)
	}
	c.SendRaw(`["authenticate", 8, {"client_id": "x"}]`)
	c.Wait(wait, "authenticated", func(f nodetest.Frame) bool { return f.Kind() == "authenticated" })
}

func TestAuthenticateTwiceIsUnknownCommand(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	c, _ := loginGuest(t, n, "twice")
	// venueless routes actions by namespace once authenticated; there is no
	// "authenticate" namespace.
	if code := c.CallErr("authenticate", map[string]any{"client_id": "other"}); code != "protocol.unknown_command" {
		t.Fatalf("second authenticate: code %q, want protocol.unknown_command", code)
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	c, _ := loginGuest(t, n, "unknown")
	for _, action := range []string{"room.fly", "chat.send", "x"} {
		if code := c.CallErr(action, map[string]any{}); code != "protocol.unknown_command" {
			t.Errorf("%s: code %q, want protocol.unknown_command", action, code)
		}
	}
	enter(t, c, "room_1")
}

// TestMalformedFrames sends frames that are not valid venueless frames; each
// gets an error reply in the protocol's format and the connection stays
// usable, authenticated or not.
func TestMalformedFrames(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	c := nodetest.Dial(t, n.URL())
	bad := []string{`not json`, `{"action": "ping"}`, `"ping"`, `42`, `[]`, `[1, 2, 3]`, `["a", 1, 2, 3]`,
		`[null, 1, {}]`, `["", 1, {}]`, `["room.enter", 1, {"room": "room_1"`, ``}
	check := func(stage string) {
		for _, b := range bad {
			c.SendRaw(b)
			f := c.Wait(wait, "error for "+b, func(f nodetest.Frame) bool { return f.Kind() == "error" })
			var e struct{ Code, Message string }
			f.Decode(t, len(f)-1, &e)
			if e.Code != "protocol.invalid" || e.Message == "" {
				t.Errorf("%s: %q got %s, want protocol.invalid with a message", stage, b, f)
			}
		}
		c.SendRaw(`["ping", 5]`)
		c.Wait(wait, "pong", func(f nodetest.Frame) bool { return f.Kind() == "pong" })
	}
	check("before authenticate")
	c.Auth(map[string]any{"client_id": "malformed"})
	check("after authenticate")

	// Well-formed frames with payloads of the wrong type keep their id.
	for _, p := range []any{"room_1", []string{"room_1"}, map[string]any{"room": 5}, nil} {
		if code := c.CallErr("room.enter", p); code != "protocol.invalid" {
			t.Errorf("room.enter %v: code %q, want protocol.invalid", p, code)
		}
	}
	if code := c.CallErr("room.react", map[string]any{"room": "room_1", "reaction": 1}); code != "protocol.invalid" {
		t.Errorf("room.react with a numeric reaction: code %q, want protocol.invalid", code)
	}
	enter(t, c, "room_1")
}
