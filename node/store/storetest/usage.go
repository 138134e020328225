package storetest

import (
	"testing"

	"github.com/roomring/roomring/node/store"
)

// inRoom is r made in room.
func inRoom(room string, r store.ResourceReaction) store.ResourceReaction {
	r.Room = room
	return r
}

func usage(t *testing.T, s store.Store, room, resource, comment, user string) store.ReactionUsage {
	t.Helper()
	u, err := s.ReactionUsage(ctx, room, store.ReactionKey{Resource: resource, Comment: comment, UserID: user})
	if err != nil {
		t.Fatalf("ReactionUsage(%q): %v", room, err)
	}
	return u
}

func checkUsage(t *testing.T, s store.Store, room, resource, comment, user string, want store.ReactionUsage) {
	t.Helper()
	if got := usage(t, s, room, resource, comment, user); got != want {
		t.Fatalf("ReactionUsage(%q, %q/%q, %q) = %+v, want %+v", room, resource, comment, user, got, want)
	}
}

// testReactionUsage: the counts follow puts, replacements, moves between
// rooms and deletes; rooms are counted apart; Reaction returns the room.
func testReactionUsage(t *testing.T, s store.Store) {
	checkUsage(t, s, "a", "talk", "", "alice", store.ReactionUsage{})
	put(t, s, inRoom("a", R("talk", "", "alice", "👍", false)))
	put(t, s, inRoom("a", R("talk", "c1", "alice", "👍", false)))
	put(t, s, inRoom("a", R("talk", "", "bob", "❤️", false)))
	put(t, s, inRoom("a", R("poster", "", "bob", "❤️", true)))
	put(t, s, inRoom("b", R("talk", "", "carol", "👍", false)))
	checkUsage(t, s, "a", "talk", "", "alice", store.ReactionUsage{UserReactions: 2, Targets: 3, HasTarget: true})
	checkUsage(t, s, "a", "other", "", "bob", store.ReactionUsage{UserReactions: 2, Targets: 3})
	checkUsage(t, s, "a", "talk", "c1", "carol", store.ReactionUsage{Targets: 3, HasTarget: true})
	checkUsage(t, s, "b", "talk", "", "carol", store.ReactionUsage{UserReactions: 1, Targets: 1, HasTarget: true})

	// A replacement keeps the counts; Reaction tells the room.
	put(t, s, inRoom("a", R("talk", "", "alice", "👏", false)))
	checkUsage(t, s, "a", "talk", "", "alice", store.ReactionUsage{UserReactions: 2, Targets: 3, HasTarget: true})
	if r, err := s.Reaction(ctx, store.ReactionKey{Resource: "talk", UserID: "alice"}); err != nil || r.Room != "a" || r.Reaction != "👏" {
		t.Fatalf("Reaction = %+v, %v; want 👏 in room a", r, err)
	}

	// A reaction made again in another room moves there.
	put(t, s, inRoom("b", R("poster", "", "bob", "😮", false)))
	checkUsage(t, s, "a", "poster", "", "bob", store.ReactionUsage{UserReactions: 1, Targets: 2})
	checkUsage(t, s, "b", "poster", "", "bob", store.ReactionUsage{UserReactions: 1, Targets: 2, HasTarget: true})

	// Deletes uncount; the target stays while another user's reaction does.
	if _, err := s.DeleteReaction(ctx, store.ReactionKey{Resource: "talk", UserID: "alice"}); err != nil {
		t.Fatal(err)
	}
	checkUsage(t, s, "a", "talk", "", "alice", store.ReactionUsage{UserReactions: 1, Targets: 2, HasTarget: true})
	if _, err := s.DeleteReaction(ctx, store.ReactionKey{Resource: "talk", UserID: "bob"}); err != nil {
		t.Fatal(err)
	}
	checkUsage(t, s, "a", "talk", "", "alice", store.ReactionUsage{UserReactions: 1, Targets: 1})
	checkList(t, s, "poster", "", inRoom("b", R("poster", "", "bob", "😮", false)))
}
