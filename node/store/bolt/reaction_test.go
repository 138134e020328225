package bolt_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/roomring/roomring/node/store"
	"github.com/roomring/roomring/node/store/bolt"
)

func TestResourceReactions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := bolt.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	put := func(res, comment, user, reaction string, incognito bool) {
		t.Helper()
		r := store.ResourceReaction{ReactionKey: store.ReactionKey{Resource: res, Comment: comment, UserID: user},
			Reaction: reaction, Incognito: incognito, Updated: at}
		if err := s.PutReaction(ctx, r, 0); err != nil {
			t.Fatal(err)
		}
	}
	put("talk", "", "alice", "👍", false)
	put("talk", "", "bob", "❤️", true)
	put("talk", "", "alice", "👏", false) // replaces
	put("talk", "c1", "alice", "😮", false)
	// Ids that would collide under a naive separator scheme.
	put("talk\x00", "", "x", "a", false)
	put("tal", "k", "y", "b", false)

	list := func(res, comment string) map[string]store.ResourceReaction {
		t.Helper()
		out := map[string]store.ResourceReaction{}
		if err := s.ReactionsOf(ctx, "", res, comment, func(r store.ResourceReaction) bool {
			out[r.UserID] = r
			return true
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := list("talk", "")
	if len(got) != 2 || got["alice"].Reaction != "👏" || got["bob"].Reaction != "❤️" || !got["bob"].Incognito ||
		!got["alice"].Updated.Equal(at) {
		t.Fatalf("talk reactions = %+v", got)
	}
	if c := list("talk", "c1"); len(c) != 1 || c["alice"].Reaction != "😮" {
		t.Fatalf("comment reactions = %+v", c)
	}
	if c := list("tal", ""); len(c) != 0 {
		t.Fatalf("prefix leak: %+v", c)
	}
	n := 0
	_ = s.ReactionsOf(ctx, "", "talk", "", func(store.ResourceReaction) bool { n++; return false })
	if n != 1 {
		t.Fatalf("iteration did not stop: %d", n)
	}

	old, err := s.DeleteReaction(ctx, store.ReactionKey{Resource: "talk", UserID: "alice"})
	if err != nil || old.Reaction != "👏" {
		t.Fatalf("delete = %+v, %v", old, err)
	}
	if _, err := s.DeleteReaction(ctx, store.ReactionKey{Resource: "talk", UserID: "alice"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = bolt.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Reaction(ctx, store.ReactionKey{Resource: "talk", UserID: "bob"})
	if err != nil || r.Reaction != "❤️" || !r.Incognito {
		t.Fatalf("after reopen: %+v, %v", r, err)
	}
	if _, err := s.Reaction(ctx, store.ReactionKey{Resource: "talk", UserID: "alice"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted reaction survived reopen: %v", err)
	}
}
