package venueless_test

import (
	"maps"
	"testing"
	"time"

	"github.com/roomring/roomring/node/nodetest"
)

type reaction struct {
	Room      string         `json:"room"`
	Reactions map[string]int `json:"reactions"`
}

func react(t *testing.T, c *nodetest.Client, room, emoji string) {
	t.Helper()
	if raw := c.Call("room.react", map[string]any{"room": room, "reaction": emoji}); string(raw) != "{}" {
		t.Fatalf("room.react reply = %s, want {}", raw)
	}
}

// nextReaction waits for the next room.reaction of room.
func nextReaction(t *testing.T, c *nodetest.Client, room string) reaction {
	t.Helper()
	return nodetest.Decode[reaction](t, c.Wait(wait, "room.reaction in "+room, nodetest.IsEvent("room.reaction", room))[1])
}

// syncToWindow reacts with emoji and waits for its broadcast: the
// aggregation window has just been flushed, so reactions sent right after
// land together in the next one (which is a whole window, 1 s, away).
func syncToWindow(t *testing.T, c *nodetest.Client, room, emoji string) {
	t.Helper()
	react(t, c, room, emoji)
	for {
		if r := nextReaction(t, c, room); r.Reactions[emoji] > 0 {
			return
		}
	}
}

// TestReactionsAggregated: two users' reactions within one window arrive as
// one room.reaction with the counts, at everyone in the room, reactors
// included.
func TestReactionsAggregated(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	a := nodetest.Login(t, n.URL(), "alice")
	b, _ := loginGuest(t, n, "bob")
	watcher, _ := loginGuest(t, n, "watcher")
	for _, c := range []*nodetest.Client{a, b, watcher} {
		enter(t, c, "room_1")
	}
	syncToWindow(t, a, "room_1", "😮")
	react(t, a, "room_1", "👏")
	react(t, b, "room_1", "👏")
	react(t, b, "room_1", "❤️")
	want := map[string]int{"👏": 2, "❤️": 1}
	for name, c := range map[string]*nodetest.Client{"alice": a, "bob": b, "watcher": watcher} {
		var r reaction
		for r = nextReaction(t, c, "room_1"); r.Reactions["😮"] > 0; r = nextReaction(t, c, "room_1") {
			// the sync window's broadcast
		}
		if r.Room != "room_1" || !maps.Equal(r.Reactions, want) {
			t.Errorf("%s got room.reaction %+v, want %v in room_1", name, r, want)
		}
	}

	// A window without reactions broadcasts nothing. The aggregator flushes
	// every second; 2.5 s without a push covers two full windows.
	watcher.None(2500*time.Millisecond, "room.reaction without reactions", nodetest.IsEvent("room.reaction", ""))
}

// TestReactionsOnlyToRoomMembers: reactions reach the room, not the world.
func TestReactionsOnlyToRoomMembers(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	a := nodetest.Login(t, n.URL(), "alice")
	enter(t, a, "room_1")
	elsewhere, _ := loginGuest(t, n, "elsewhere")
	enter(t, elsewhere, "lounge")
	react(t, a, "room_1", "👍")
	nextReaction(t, a, "room_1")
	// Marker: room_1's window has been published (alice got it), so a
	// lounge reaction sent now is published later and reaches elsewhere
	// after anything room_1's window might wrongly have sent it.
	react(t, elsewhere, "lounge", "👍")
	nextReaction(t, elsewhere, "lounge")
	if elsewhere.Has(nodetest.IsEvent("room.reaction", "room_1")) {
		t.Fatal("a user in another room got room_1's reactions")
	}
}

func TestUnknownReaction(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	c, _ := loginGuest(t, n, "reactor")
	enter(t, c, "room_1")
	for _, r := range []string{"🐸", "", ":clap:", "👏👏"} {
		if code := c.CallErr("room.react", map[string]any{"room": "room_1", "reaction": r}); code != "room.unknown_reaction" {
			t.Errorf("reaction %q: code %q, want room.unknown_reaction", r, code)
		}
	}
	if code := c.CallErr("room.react", map[string]any{"room": "room_1"}); code != "room.unknown_reaction" {
		t.Errorf("reaction missing: code %q, want room.unknown_reaction", code)
	}
}

// TestReactionDebounce: a user's repeat of the same reaction within 2 s is
// acknowledged with success and not counted; another emoji is counted.
func TestReactionDebounce(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	a := nodetest.Login(t, n.URL(), "alice")
	marker := nodetest.Login(t, n.URL(), "marker")
	enter(t, a, "room_1")
	enter(t, marker, "room_1")
	react(t, a, "room_1", "👏")
	react(t, a, "room_1", "👏") // debounced, still success
	react(t, a, "room_1", "👏")
	react(t, a, "room_1", "❤️")
	// marker reacts after alice's reactions were all acknowledged, so every
	// one alice's counted is in a window no later than marker's.
	react(t, marker, "room_1", "😮")
	sum := map[string]int{}
	for sum["😮"] == 0 {
		for k, v := range nextReaction(t, a, "room_1").Reactions {
			sum[k] += v
		}
	}
	if want := map[string]int{"👏": 1, "❤️": 1, "😮": 1}; !maps.Equal(sum, want) {
		t.Fatalf("counted %v, want %v", sum, want)
	}
}

// TestRoomRestrictsReactions: workshop-a allows 👏 👍 😮 only.
func TestRoomRestrictsReactions(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	c, _ := loginGuest(t, n, "workshopper")
	enter(t, c, "workshop-a")
	for _, r := range []string{"❤️", "🤣"} {
		if code := c.CallErr("room.react", map[string]any{"room": "workshop-a", "reaction": r}); code != "room.unknown_reaction" {
			t.Errorf("%s in workshop-a: code %q, want room.unknown_reaction", r, code)
		}
	}
	react(t, c, "workshop-a", "👍")
	if r := nextReaction(t, c, "workshop-a"); !maps.Equal(r.Reactions, map[string]int{"👍": 1}) {
		t.Fatalf("room.reaction = %+v, want one 👍", r)
	}
	// ❤️ is fine elsewhere.
	enter(t, c, "room_1")
	react(t, c, "room_1", "❤️")
}

// TestReactDeniedOutsideInviteRoom: an anonymous invitee may react only in their
// room; in others the room is not theirs to see.
func TestReactDeniedOutsideInviteRoom(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	code := inviteCode(t, mod, "room_1")
	inv := nodetest.Dial(t, n.URL())
	inv.Auth(map[string]any{"client_id": "kiosk-1", "invite_token": code})
	if c := inv.CallErr("room.react", map[string]any{"room": "lounge", "reaction": "👏"}); c != "protocol.denied" {
		t.Fatalf("invitee reacting in another room: code %q, want protocol.denied", c)
	}
	enter(t, inv, "room_1")
	react(t, inv, "room_1", "👏")
}
