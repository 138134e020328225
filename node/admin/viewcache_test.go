package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
)

// viewClass is a kind of client whose world.config the test compares.
type viewClass struct {
	name   string
	uid    string
	traits []string
	invite bool // an anonymous invitee of room hall
}

var viewClasses = []viewClass{
	{name: "viewer", uid: "v"},
	{name: "viewer with a trait no grant names", uid: "v2", traits: []string{"order-4711"}},
	{name: "moderator", uid: "m", traits: []string{"moderator"}},
	{name: "admin", uid: "a", traits: []string{"admin", "moderator"}},
	{name: "speaker", uid: "s", traits: []string{"speaker"}},
	{name: "invitee", uid: "kiosk", invite: true},
}

var inviteCodeOf = regexp.MustCompile(`/i/([A-Za-z0-9]+)$`)

// viewNode is one node of TestWorldViewCacheMatchesUncached, with its
// world expo's admin and the invite code of its room hall.
type viewNode struct {
	n      *nodetest.Node
	admin  *nodetest.Client
	invite string
}

// worldConfig authenticates a new client of class k on world expo of vn
// and returns its authenticated push's world.config as sent.
func (vn *viewNode) worldConfig(t *testing.T, k viewClass) json.RawMessage {
	t.Helper()
	c := nodetest.Dial(t, nodetest.WorldURL(vn.n.Addr(), "expo"))
	defer c.Close()
	var body map[string]any
	if k.invite {
		body = map[string]any{"client_id": k.uid, "invite_token": vn.invite}
	} else {
		body = map[string]any{"token": nodetest.TokenFor(t, expoSecret, k.uid, k.traits...)}
	}
	a := nodetest.Decode[map[string]json.RawMessage](t, c.Auth(body))
	if len(a["world.config"]) == 0 {
		t.Fatalf("%s: authenticated without world.config", k.name)
	}
	return a["world.config"]
}

// Long: TestWorldViewCacheMatchesUncached walks one sequence of changes,
// each checked on both nodes for every class of client. Two nodes, one
// caching world views
// (the default) and one building each (--world-view-cache-entries 0), go
// through the same steps — rooms created, renamed, regranted, reordered
// and deleted, the world's grants and title changed, a room's occupancy
// changed — and after each, a new client of every class (traits, none,
// traits no grant names, an anonymous invitee) gets byte for byte the
// same world.config from both; on the caching node the same class twice
// gets the same bytes, and different roles different ones.
func TestWorldViewCacheMatchesUncached(t *testing.T) {
	ctx := context.Background()
	grants := map[string]v1alpha1.TraitEntries{"viewer": {}, "moderator": {"moderator"}, "admin": {"admin"}}
	var nodes [2]*viewNode
	for i, entries := range []int{64, 0} {
		n := startNode(t, func(c *node.Config) { c.WorldViewCacheEntries = entries })
		nodetest.PutWorld(t, n.Addr(), token, "expo", nodetest.WorldSpec("Expo", grants), expoSecret)
		ac := nodetest.AdminClient(t, token, n.Addr())
		for _, id := range []string{"hall", "salon", "stage"} {
			if _, err := ac.PutRoom(ctx, id, &v1alpha1.RoomSpec{World: "expo", DisplayName: "Room " + id}); err != nil {
				t.Fatal(err)
			}
		}
		vn := &viewNode{n: n, admin: nodetest.LoginWorld(t, n.Addr(), "expo", expoSecret, "boss", "admin")}
		raw := nodetest.Decode[struct{ URL string }](t, vn.admin.Call("room.invite.anonymous.link", map[string]any{"room": "hall"}))
		m := inviteCodeOf.FindStringSubmatch(raw.URL)
		if m == nil {
			t.Fatalf("invite url %q", raw.URL)
		}
		vn.invite = m[1]
		nodes[i] = vn
	}
	cached := nodes[0]

	check := func(step string) map[string]json.RawMessage {
		t.Helper()
		views := map[string]json.RawMessage{}
		for _, k := range viewClasses {
			got, want := cached.worldConfig(t, k), nodes[1].worldConfig(t, k)
			if !bytes.Equal(got, want) {
				t.Fatalf("after %s, %s: cached world.config\n%s\nbuilt\n%s", step, k.name, got, want)
			}
			if again := cached.worldConfig(t, k); !bytes.Equal(again, got) {
				t.Fatalf("after %s, %s twice: %s then %s", step, k.name, got, again)
			}
			views[k.name] = got
		}
		if bytes.Equal(views["viewer"], views["admin"]) || bytes.Equal(views["viewer"], views["moderator"]) {
			t.Fatalf("after %s: roles see the same view: %s", step, views["viewer"])
		}
		if !bytes.Equal(views["viewer"], views["viewer with a trait no grant names"]) {
			t.Fatalf("after %s: a trait no grant names changed the view", step)
		}
		return views
	}
	rooms := func(raw json.RawMessage) []string {
		var w struct {
			Rooms []struct {
				ID, Name, Users string
			}
		}
		if err := json.Unmarshal(raw, &w); err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, r := range w.Rooms {
			out = append(out, r.ID+"="+r.Name+"/"+r.Users)
		}
		return out
	}
	both := func(fn func(vn *viewNode)) {
		for _, vn := range nodes {
			fn(vn)
		}
	}
	expect := func(views map[string]json.RawMessage, class string, want ...string) {
		t.Helper()
		if got := rooms(views[class]); !slices.Equal(got, want) {
			t.Fatalf("%s sees %v, want %v", class, got, want)
		}
	}

	v := check("start")
	expect(v, "viewer", "hall=Room hall/none", "salon=Room salon/none", "stage=Room stage/none")
	invitee := v["invitee"]
	expect(v, "invitee", "hall=Room hall/none")

	both(func(vn *viewNode) {
		if _, err := nodetest.AdminClient(t, token, vn.n.Addr()).PutRoom(ctx, "annex", &v1alpha1.RoomSpec{World: "expo", DisplayName: "Annex",
			TraitGrants: map[string]v1alpha1.TraitEntries{"viewer": {"speaker"}, "moderator": {"speaker"}}}); err != nil {
			t.Fatal(err)
		}
	})
	v = check("a room created")
	expect(v, "viewer", "annex=Annex/none", "hall=Room hall/none", "salon=Room salon/none", "stage=Room stage/none")
	if !bytes.Equal(v["invitee"], invitee) {
		t.Fatalf("a new room changed the invitee's view: %s, was %s", v["invitee"], invitee)
	}
	if bytes.Equal(v["speaker"], v["viewer"]) {
		t.Fatal("the speaker's room grant does not show")
	}

	both(func(vn *viewNode) {
		vn.admin.Call("room.config.patch", map[string]any{"room": "stage", "name": "Main Stage"})
	})
	v = check("a rename")
	expect(v, "viewer", "annex=Annex/none", "stage=Main Stage/none", "hall=Room hall/none", "salon=Room salon/none")

	both(func(vn *viewNode) { vn.admin.Call("room.config.reorder", []string{"stage", "salon"}) })
	v = check("a reorder")
	expect(v, "viewer", "stage=Main Stage/none", "salon=Room salon/none", "annex=Annex/none", "hall=Room hall/none")

	both(func(vn *viewNode) { vn.admin.Call("room.delete", map[string]any{"room": "salon"}) })
	v = check("a deletion")
	expect(v, "viewer", "stage=Main Stage/none", "annex=Annex/none", "hall=Room hall/none")

	both(func(vn *viewNode) {
		vn.admin.Call("room.config.patch", map[string]any{"room": "hall", "name": "Great Hall"})
	})
	v = check("the invitee's room renamed")
	expect(v, "invitee", "hall=Great Hall/none")

	// The world's grants change: speakers become the world's participants.
	both(func(vn *viewNode) {
		g := map[string]v1alpha1.TraitEntries{"viewer": {}, "participant": {"speaker"}, "moderator": {"moderator"}, "admin": {"admin"}}
		nodetest.PutWorld(t, vn.n.Addr(), token, "expo", nodetest.WorldSpec("Expo 2", g), expoSecret)
	})
	before := v["speaker"]
	v = check("the world's grants changed")
	if bytes.Equal(v["speaker"], before) {
		t.Fatal("a speaker's view did not change with the world's grants")
	}
	if !bytes.Contains(v["viewer"], []byte(`"title":"Expo 2"`)) {
		t.Fatalf("the world's new title does not show: %s", v["viewer"])
	}

	// Occupancy: someone enters hall; once the node has heard the room is
	// busy (world.user_count_change), new clients see it.
	both(func(vn *viewNode) {
		watcher := nodetest.LoginWorld(t, vn.n.Addr(), "expo", expoSecret, "watch")
		guest := nodetest.LoginWorld(t, vn.n.Addr(), "expo", expoSecret, "visitor")
		guest.Call("room.enter", map[string]any{"room": "hall"})
		watcher.Wait(10*time.Second, "hall's user count", nodetest.IsEvent("world.user_count_change", "hall"))
	})
	v = check("an occupancy change")
	expect(v, "viewer", "stage=Main Stage/none", "annex=Annex/none", "hall=Great Hall/few")
	expect(v, "invitee", "hall=Great Hall/few")
}
