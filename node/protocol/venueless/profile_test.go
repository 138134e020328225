package venueless_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
)

// richProfile has what the old map path would have changed: nested
// objects and arrays, non-ASCII text, characters encoding/json escapes,
// numbers a float64 cannot hold, a privacyMode flag of 0.
func richProfile() map[string]any {
	return map[string]any{
		"display_name": "Zoë 🎉 <b>&amp;",
		"privacyMode":  0,
		"fields":       map[string]any{"bio": "東京から", "links": []any{"https://x.example/?a=1&b=2", map[string]any{"n": 1.5}}},
		"big":          json.Number("12345678901234567"),
		"precise":      json.Number("0.10000000000000000001"),
	}
}

// sameJSON reports whether a and b are the same JSON value, numbers
// compared as their text.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	decode := func(raw []byte) any {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
		return v
	}
	return reflect.DeepEqual(decode(a), decode(b))
}

type rawUser struct {
	ID      string          `json:"id"`
	Profile json.RawMessage `json:"profile"`
}

// TestProfileTravelsAsTheTokenHasIt: a token's profile comes back as the
// token had it in authenticated, in another client's viewer list and in
// its room.viewer.added; an incognito user (privacyMode 1) is never shown.
func TestProfileTravelsAsTheTokenHasIt(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	want, err := json.Marshal(richProfile())
	if err != nil {
		t.Fatal(err)
	}
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	enter(t, mod, "room_1")

	zoe := nodetest.Dial(t, n.URL())
	a := nodetest.Decode[struct {
		User rawUser `json:"user.config"`
	}](t, zoe.Auth(map[string]any{"token": nodetest.Token(t, "zoe", nil, richProfile())}))
	if a.User.ID != "zoe" || !sameJSON(t, a.User.Profile, want) {
		t.Fatalf("user.config = %s %s, want the token's profile %s", a.User.ID, a.User.Profile, want)
	}
	enter(t, zoe, "room_1")
	added := nodetest.Decode[struct{ User rawUser }](t, mod.Event("room.viewer.added"))
	if added.User.ID != "zoe" || !sameJSON(t, added.User.Profile, want) {
		t.Fatalf("room.viewer.added = %s %s, want zoe with %s", added.User.ID, added.User.Profile, want)
	}

	// An incognito user enters, then a plain one: the moderator is told
	// of the plain one only (one room's events arrive in order).
	ghostProfile := richProfile()
	ghostProfile["privacyMode"] = 1
	ghost := nodetest.Dial(t, n.URL())
	ghost.Auth(map[string]any{"token": nodetest.Token(t, "ghost", nil, ghostProfile)})
	enter(t, ghost, "room_1")
	plain := nodetest.Login(t, n.URL(), "plain")
	enter(t, plain, "room_1")
	if next := nodetest.Decode[struct{ User rawUser }](t, mod.Event("room.viewer.added")); next.User.ID != "plain" {
		t.Fatalf("room.viewer.added after the incognito user's entry = %s, want plain", next.User.ID)
	}

	// A second moderator's viewer list: zoe as the token had her, no ghost.
	mod2 := nodetest.Login(t, n.URL(), "mod2", "moderator")
	r := nodetest.Decode[struct{ Viewers []rawUser }](t, mod2.Call("room.enter", map[string]any{"room": "room_1"}))
	var seen []string
	for _, v := range r.Viewers {
		seen = append(seen, v.ID)
		if v.ID == "zoe" && !sameJSON(t, v.Profile, want) {
			t.Errorf("viewer zoe's profile = %s, want %s", v.Profile, want)
		}
	}
	slices.Sort(seen)
	if strings.Join(seen, ",") != "mod,mod2,plain,zoe" {
		t.Fatalf("viewers = %v, want mod, mod2, plain and zoe (not the incognito ghost)", seen)
	}
}

// TestProfileOverTheLimitIsRefused: a token whose profile is larger than
// --max-profile-bytes is refused with auth.denied, and the connection may
// authenticate again; the default limit is 4 KiB.
func TestProfileOverTheLimitIsRefused(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t, func(c *node.Config) { c.MaxProfileBytes = 64 })
	c := nodetest.Dial(t, n.URL())
	big := map[string]any{"display_name": strings.Repeat("x", 64)}
	if code := c.AuthErr(map[string]any{"token": nodetest.Token(t, "big", nil, big)}); code != "auth.denied" {
		t.Fatalf("authenticate with a 79-byte profile over a 64-byte limit: code %q, want auth.denied", code)
	}
	small := map[string]any{"display_name": strings.Repeat("x", 40)} // 57 bytes
	c.Auth(map[string]any{"token": nodetest.Token(t, "small", nil, small)})
	enter(t, c, "room_1")

	d := nodetest.StartWith(t)
	over := map[string]any{"display_name": strings.Repeat("x", 4096)}
	if code := nodetest.Dial(t, d.URL()).AuthErr(map[string]any{"token": nodetest.Token(t, "big", nil, over)}); code != "auth.denied" {
		t.Fatalf("authenticate with a profile over the default limit: code %q, want auth.denied", code)
	}
	// A profile claim that is not an object is an invalid token.
	if code := nodetest.Dial(t, d.URL()).AuthErr(map[string]any{"token": tokenWithProfile(t, `"just a string"`)}); code != "auth.invalid_token" {
		t.Fatalf("authenticate with a string profile: code %q, want auth.invalid_token", code)
	}
}

// tokenWithProfile signs a token for uid "odd" whose profile claim is raw.
func tokenWithProfile(t *testing.T, raw string) string {
	t.Helper()
	c := jwt.MapClaims{"uid": "odd", "exp": time.Now().Add(time.Hour).Unix(), "profile": json.RawMessage(raw)}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(nodetest.Secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
