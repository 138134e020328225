package venueless_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
)

var inviteURL = regexp.MustCompile(`^(.*)/i/([A-Za-z0-9]{6})$`)

// inviteCode asks c for room's anonymous invite link and returns its code,
// checking the link is <public url>/i/<6-char code>.
func inviteCode(t *testing.T, c *nodetest.Client, room string) string {
	t.Helper()
	res := nodetest.Decode[struct{ URL string }](t, c.Call("room.invite.anonymous.link", map[string]any{"room": room}))
	m := inviteURL.FindStringSubmatch(res.URL)
	if m == nil {
		t.Fatalf("invite url %q is not <base>/i/<6-char code>", res.URL)
	}
	return m[2]
}

func TestInviteLink(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	raw := nodetest.Decode[struct{ URL string }](t, mod.Call("room.invite.anonymous.link", map[string]any{"room": "room_1"}))
	// Without --public-url, links point at the node's actual address.
	if want := n.HTTPURL() + "/i/"; !strings.HasPrefix(raw.URL, want) {
		t.Fatalf("invite url %q, want prefix %s", raw.URL, want)
	}
	code := inviteCode(t, mod, "room_1")
	if !strings.HasSuffix(raw.URL, "/"+code) {
		t.Fatalf("second link %s differs from the first %s", code, raw.URL)
	}
	admin := nodetest.Login(t, n.URL(), "admin", "admin")
	if again := inviteCode(t, admin, "room_1"); again != code {
		t.Fatalf("another moderator got %s, want the room's link %s", again, code)
	}
	if other := inviteCode(t, admin, "lounge"); other == code {
		t.Fatal("two rooms share an invite code")
	}

	// The link lands on venueless' invite route (the web app's
	// standalone:anonymous, which reads the code from the fragment).
	if loc := inviteLocation(t, raw.URL, http.StatusFound); loc != n.HTTPURL()+"/standalone/room_1/anonymous#invite="+code {
		t.Fatalf("GET %s: Location %q", raw.URL, loc)
	}
	// An unknown code is a 404, not a redirect.
	inviteLocation(t, n.HTTPURL()+"/i/nope42", http.StatusNotFound)
}

// inviteLocation GETs an invite link without following redirects, checks
// the status and returns the Location header.
func inviteLocation(t *testing.T, link string, status int) string {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("GET %s: %s, want %d", link, resp.Status, status)
	}
	return resp.Header.Get("Location")
}

// TestInviteRedirectConfigured: --invite-redirect replaces venueless'
// route, with the room and the code filled in.
func TestInviteRedirectConfigured(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t, func(c *node.Config) { c.InviteRedirect = "https://app.example.org/join/{room}?code={code}" })
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	code := inviteCode(t, mod, "lounge")
	if loc := inviteLocation(t, n.HTTPURL()+"/i/"+code, http.StatusFound); loc != "https://app.example.org/join/lounge?code="+code {
		t.Fatalf("Location %q", loc)
	}
}

func TestInviteLinkPublicURL(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t, func(c *node.Config) { c.PublicURL = "https://events.example.org/" })
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	res := nodetest.Decode[struct{ URL string }](t, mod.Call("room.invite.anonymous.link", map[string]any{"room": "room_1"}))
	if !regexp.MustCompile(`^https://events\.example\.org/i/[A-Za-z0-9]{6}$`).MatchString(res.URL) {
		t.Fatalf("invite url %q, want https://events.example.org/i/<code>", res.URL)
	}
}

func TestInviteLinkDenied(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	g, _ := loginGuest(t, n, "g")
	if code := g.CallErr("room.invite.anonymous.link", map[string]any{"room": "room_1"}); code != "protocol.denied" {
		t.Errorf("viewer invite link: code %q, want protocol.denied", code)
	}
	admin := nodetest.Login(t, n.URL(), "admin", "admin")
	// backstage has anonymous invites off.
	if code := admin.CallErr("room.invite.anonymous.link", map[string]any{"room": "backstage"}); code != "protocol.denied" {
		t.Errorf("invite link of a room without invites: code %q, want protocol.denied", code)
	}
	if code := admin.CallErr("room.invite.anonymous.link", map[string]any{"room": "nope"}); code != "room.unknown" {
		t.Errorf("invite link of an unknown room: code %q, want room.unknown", code)
	}
}

// TestInviteRedeem: a redeemed invite admits to its room only.
func TestInviteRedeem(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	enter(t, mod, "room_1")
	code := inviteCode(t, mod, "room_1")

	inv := nodetest.Dial(t, n.URL())
	a := nodetest.Decode[authenticated](t, inv.Auth(map[string]any{"client_id": "kiosk-7", "invite_token": code,
		"profile": map[string]any{"display_name": "Kiosk"}}))
	if ids := a.World.ids(); !slices.Equal(ids, []string{"room_1"}) {
		t.Fatalf("invitee's world.config rooms = %v, want room_1 only", ids)
	}
	if r, _ := a.World.room("room_1"); !slices.Equal(r.Permissions, []string{"room:view", "room:react"}) {
		t.Fatalf("invitee's room_1 permissions = %v", r.Permissions)
	}
	if len(a.World.Permissions) != 0 {
		t.Fatalf("invitee's world permissions = %v, want none", a.World.Permissions)
	}
	for _, room := range []string{"lounge", "workshop-a", "backstage"} {
		if c := inv.CallErr("room.enter", map[string]any{"room": room}); c != "protocol.denied" && c != "room.unknown" {
			t.Errorf("invitee entering %s: code %q, want protocol.denied or room.unknown", room, c)
		}
	}
	if r := enter(t, inv, "room_1"); r.Viewers != nil {
		t.Fatalf("invitee got viewers %v", r.Viewers)
	}
	// The invitee is counted, never listed: TestInviteeHidden.
	react(t, inv, "room_1", "👏")
	if c := inv.CallErr("room.schedule", map[string]any{"room": "room_1", "schedule_data": map[string]any{"title": "x"}}); c != "protocol.denied" {
		t.Errorf("invitee schedule: code %q, want protocol.denied", c)
	}
	if c := inv.CallErr("room.invite.anonymous.link", map[string]any{"room": "room_1"}); c != "protocol.denied" {
		t.Errorf("invitee invite link: code %q, want protocol.denied", c)
	}
	if c := inv.CallErr("room.create", map[string]any{"name": "mine"}); c != "protocol.denied" {
		t.Errorf("invitee create: code %q, want protocol.denied", c)
	}
	// A world update keeps the invitee's narrow view.
	admin := nodetest.Login(t, n.URL(), "admin", "admin")
	admin.Call("room.config.patch", map[string]any{"room": "lounge", "description": "changed"})
	if w := nodetest.Decode[worldConfig](t, inv.Event("world.updated")); !slices.Equal(w.ids(), []string{"room_1"}) {
		t.Fatalf("invitee's world.updated rooms = %v, want room_1 only", w.ids())
	}
	// A new room is not announced to the invitee.
	admin.Call("room.create", map[string]any{"name": "Hall C"})
	admin.Event("room.create")
	admin.Call("room.config.patch", map[string]any{"room": "lounge", "description": "changed again"})
	inv.Event("world.updated")
	if inv.Has(nodetest.IsEvent("room.create", "")) {
		t.Fatal("the invitee was told about a room it cannot see")
	}
}

func TestInviteRedeemInvalid(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	c := nodetest.Dial(t, n.URL())
	if code := c.AuthErr(map[string]any{"client_id": "kiosk", "invite_token": "zzzzzz"}); code != "auth.denied" {
		t.Fatalf("unknown invite: code %q, want auth.denied", code)
	}
	// An invite of a deleted room is void.
	admin := nodetest.Login(t, n.URL(), "admin", "admin")
	code := inviteCode(t, admin, "lounge")
	admin.Call("room.delete", map[string]any{"room": "lounge"})
	if got := c.AuthErr(map[string]any{"client_id": "kiosk", "invite_token": code}); got != "auth.denied" {
		t.Fatalf("invite of a deleted room: code %q, want auth.denied", got)
	}
	// The invite token without a client_id is no credential at all.
	if got := c.AuthErr(map[string]any{"invite_token": inviteCode(t, admin, "room_1")}); got != "auth.missing_id_or_token" {
		t.Fatalf("invite without client_id: code %q, want auth.missing_id_or_token", got)
	}
}
