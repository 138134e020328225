package auth

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/roomring/roomring/node/op"
)

func TestRolesOf(t *testing.T) {
	g := Grants{
		"viewer":    {},                            // everyone
		"moderator": {{"mod"}},                     // trait mod
		"speaker":   {{"speaker", "host"}},         // any of speaker, host
		"vip":       {{"paid"}, {"verified", "x"}}, // paid and (verified or x)
	}
	cases := []struct {
		traits []string
		want   []string
	}{
		{nil, []string{"viewer"}},
		{[]string{"mod"}, []string{"moderator", "viewer"}},
		{[]string{"host"}, []string{"speaker", "viewer"}},
		{[]string{"paid"}, []string{"viewer"}},
		{[]string{"paid", "x"}, []string{"viewer", "vip"}},
		{[]string{"verified", "paid", "speaker", "mod"}, []string{"moderator", "speaker", "viewer", "vip"}},
	}
	for _, tc := range cases {
		if got := g.RolesOf(tc.traits); !slices.Equal(got, tc.want) {
			t.Errorf("RolesOf(%v) = %v, want %v", tc.traits, got, tc.want)
		}
	}
}

func TestRuleJSON(t *testing.T) {
	var g Grants
	if err := json.Unmarshal([]byte(`{"moderator": ["a", ["b", "c"]]}`), &g); err != nil {
		t.Fatal(err)
	}
	if len(g["moderator"]) != 2 || !slices.Equal(g["moderator"][1], []string{"b", "c"}) {
		t.Fatalf("decoded %v", g)
	}
	b, err := json.Marshal(g)
	if err != nil || string(b) != `{"moderator":["a",["b","c"]]}` {
		t.Fatalf("encoded %s, %v", b, err)
	}
	if err := json.Unmarshal([]byte(`{"moderator": [1]}`), &g); err == nil {
		t.Fatal("a numeric rule was accepted")
	}
}

func TestPolicy(t *testing.T) {
	p := &Policy{Roles: DefaultRoles(), WorldGrants: DevGrants()}
	roomGrants := Grants{"moderator": {{"speaker"}}}
	viewer := &User{ID: "v"}
	speaker := &User{ID: "s", Traits: []string{"speaker"}}
	admin := &User{ID: "a", Traits: []string{"admin"}}
	invitee := &User{ID: "i", InviteRoom: "r1"}

	if got := p.World(viewer).Names(); !slices.Equal(got, []string{"room:view", "room:react"}) {
		t.Errorf("viewer world = %v", got)
	}
	if got := p.Room(speaker, "r1", roomGrants); !got.Has(RoomViewers|RoomAnnounce|RoomInviteAnonymous) || got.Has(RoomUpdate) {
		t.Errorf("speaker in a room granting them moderator = %v", got.Names())
	}
	if got := p.Room(speaker, "r2", nil); got.Has(RoomViewers) {
		t.Errorf("speaker elsewhere = %v", got.Names())
	}
	if got := p.World(admin); !got.Has(WorldRoomsCreate | RoomUpdate | RoomDelete) {
		t.Errorf("admin world = %v", got.Names())
	}
	if got := p.Room(admin, "r1", nil).RoomNames(); slices.Contains(got, "world:rooms.create") {
		t.Errorf("RoomNames lists a world permission: %v", got)
	}
	if got := p.World(invitee); got != 0 {
		t.Errorf("invitee world = %v, want none", got.Names())
	}
	if got := p.Room(invitee, "r1", roomGrants); got != RoomView|RoomReact {
		t.Errorf("invitee in their room = %v, want view and react", got.Names())
	}
	if got := p.Room(invitee, "r2", Grants{"admin": {}}); got != 0 {
		t.Errorf("invitee elsewhere = %v, want none even where everyone is admin", got.Names())
	}
}

func TestVerify(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	v := NewVerifier([]Secret{{Key: []byte("other-key-0123456789"), Issuer: "other"}, {Key: key, Issuer: "pretix", Audience: "roomring"}})
	v.now = func() time.Time { return now }
	sign := func(m jwt.SigningMethod, k any, c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exp := now.Add(time.Hour).Unix()
	good := jwt.MapClaims{"uid": "u1", "traits": []string{"a"}, "profile": map[string]any{"display_name": "U"}, "exp": exp, "iss": "pretix", "aud": "roomring"}
	c, err := v.Verify(sign(jwt.SigningMethodHS256, key, good))
	if err != nil || c.UID != "u1" || !slices.Equal(c.Traits, []string{"a"}) || string(c.Profile) != `{"display_name":"U"}` {
		t.Fatalf("Verify good = %+v, %v", c, err)
	}
	u, uerr := NewUser(c, DefaultMaxProfileBytes)
	if uerr != nil || u.ID != "u1" || u.Incognito() || u.Profile.String() != `{"display_name":"U"}` {
		t.Fatalf("NewUser = %+v, %v", u, uerr)
	}

	with := func(k string, val any) jwt.MapClaims {
		m := jwt.MapClaims{}
		for kk, vv := range good {
			m[kk] = vv
		}
		if val == nil {
			delete(m, k)
		} else {
			m[k] = val
		}
		return m
	}
	cases := map[string]struct {
		tok  string
		code op.Code
	}{
		"expired":      {sign(jwt.SigningMethodHS256, key, with("exp", now.Add(-time.Second).Unix())), op.CodeExpiredToken},
		"no exp":       {sign(jwt.SigningMethodHS256, key, with("exp", nil)), op.CodeInvalidToken},
		"wrong issuer": {sign(jwt.SigningMethodHS256, key, with("iss", "evil")), op.CodeInvalidToken},
		"wrong aud":    {sign(jwt.SigningMethodHS256, key, with("aud", "other")), op.CodeInvalidToken},
		"no uid":       {sign(jwt.SigningMethodHS256, key, with("uid", nil)), op.CodeInvalidToken},
		"HS384":        {sign(jwt.SigningMethodHS384, key, good), op.CodeInvalidToken},
		"alg none":     {sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good), op.CodeInvalidToken},
		"wrong key":    {sign(jwt.SigningMethodHS256, []byte("wrong-key-0123456789"), good), op.CodeInvalidToken},
		"garbage":      {"a.b.c", op.CodeInvalidToken},
	}
	for name, tc := range cases {
		if _, err := v.Verify(tc.tok); err == nil || err.Code != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
}

func TestPrivacyMode(t *testing.T) {
	for _, tc := range []struct {
		profile string
		want    PrivacyMode
	}{
		{`{"privacyMode":1}`, 1}, {`{"privacyMode":1.9}`, 1}, {`{"privacyMode":"1"}`, 1}, {`{"privacyMode":"x"}`, 0},
		{`{"privacyMode":null}`, 0}, {`{"privacyMode":true}`, 0}, {`{"privacyMode":{"a":1}}`, 0},
		{`{"privacyMode":1e300}`, 0}, {`{"a":1}`, 0}, {`{"privacyMode":2,"privacyMode":1}`, 1},
	} {
		u, err := NewUser(&Claims{UID: "x", Profile: []byte(tc.profile)}, 0)
		if err != nil || u.privacy != tc.want || u.Incognito() != (tc.want == 1) {
			t.Errorf("NewUser(%s): privacy %d, %v; want %d", tc.profile, u.privacy, err, tc.want)
		}
	}
	u, _ := NewUser(&Claims{UID: "x", Profile: []byte(`{"privacyMode": 1}`)}, 0)
	if p := u.Public(); !p.Incognito || p.ID != "x" || p.Badges == nil || p.Profile.String() != `{"privacyMode":1}` {
		t.Fatalf("Public = %+v", p)
	}
}

// TestNewUserProfile: the profile claim is kept compact and as the token
// had it; one that is not an object is an invalid token, one over the
// limit is refused.
func TestNewUserProfile(t *testing.T) {
	for _, tc := range []struct {
		claim, want string
		code        op.Code
	}{
		{``, `{}`, ""},
		{`null`, `{}`, ""},
		{`{ }`, `{}`, ""},
		{`{"b": 1e2, "a": {"n": [1, 2.50]}, "s": "<é>"}`, `{"b":1e2,"a":{"n":[1,2.50]},"s":"<é>"}`, ""},
		{`"x"`, "", op.CodeInvalidToken},
		{`[1]`, "", op.CodeInvalidToken},
		{`{"s":"` + strings.Repeat("x", 70) + `"}`, "", op.CodeAuthDenied},
	} {
		u, err := NewUser(&Claims{UID: "x", Profile: []byte(tc.claim)}, 64)
		switch {
		case tc.code != "" && (err == nil || err.Code != tc.code):
			t.Errorf("NewUser(%s) = %v, want %s", tc.claim, err, tc.code)
		case tc.code == "" && (err != nil || u.Profile.String() != tc.want):
			t.Errorf("NewUser(%s) = %v, %v; want %s", tc.claim, u, err, tc.want)
		}
	}
}
