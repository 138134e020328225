package bolt_test

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/roomring/roomring/node/store"
	"github.com/roomring/roomring/node/store/bolt"
)

// legacyKey is a key of the reactions bucket of earlier versions:
// uvarint(len(resource)) resource uvarint(len(comment)) comment user.
func legacyKey(resource, comment, user string) []byte {
	b := binary.AppendUvarint(nil, uint64(len(resource)))
	b = append(b, resource...)
	b = binary.AppendUvarint(b, uint64(len(comment)))
	b = append(b, comment...)
	return append(b, user...)
}

// TestLegacyReactionsMove: a data directory of an earlier version — its
// reactions keyed without the world, rows from before worlds (no world:
// the built-in world's) and of world expo, and expo counted apart — opens
// with every reaction in its own world, every world counted (the built-in
// world too), and the same ids then independent per world; a second open
// finds nothing to move.
func TestLegacyReactionsMove(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeLegacy(t, dir)
	for range 2 {
		s, err := bolt.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		users := func(world, comment string) []string {
			t.Helper()
			var out []string
			if err := s.ReactionsOf(ctx, world, "talk", comment, func(r store.ResourceReaction) bool {
				out = append(out, r.UserID+":"+r.Reaction+":"+r.Room)
				return true
			}); err != nil {
				t.Fatal(err)
			}
			return out
		}
		if got := users("", ""); !slices.Equal(got, []string{"alice:👍:hall"}) {
			t.Fatalf("built-in world's reactions to talk: %v", got)
		}
		if got := users("", "c1"); !slices.Equal(got, []string{"bob:❤️:hall"}) {
			t.Fatalf("built-in world's reactions to talk/c1: %v", got)
		}
		if got := users("expo", ""); !slices.Equal(got, []string{"carol:😮:expo-hall"}) {
			t.Fatalf("expo's reactions to talk: %v", got)
		}
		for world, want := range map[string]int{"": 2, "expo": 1} {
			if n, err := s.WorldReactions(ctx, world); err != nil || n != want {
				t.Fatalf("WorldReactions(%q) = %d, %v; want %d", world, n, err, want)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	s, err := bolt.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// alice in expo is a reaction of its own; the built-in world's stays.
	r := store.ResourceReaction{ReactionKey: store.ReactionKey{World: "expo", Resource: "talk", UserID: "alice"}, Room: "expo-hall", Reaction: "🤣", Updated: time.Now()}
	if err := s.PutReaction(ctx, r, 2); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Reaction(ctx, store.ReactionKey{Resource: "talk", UserID: "alice"}); err != nil || got.Reaction != "👍" {
		t.Fatalf("the built-in world's reaction of alice: %+v, %v", got, err)
	}
	if n, _ := s.WorldReactions(ctx, "expo"); n != 2 {
		t.Fatalf("expo counts %d, want 2", n)
	}
}

// writeLegacy writes an earlier version's reactions into dir's store file:
// keyed without the world, two of no world and one of expo, expo counted.
func writeLegacy(t *testing.T, dir string) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, "roomring.db"), 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte("resource_reactions"))
		if err != nil {
			return err
		}
		rows := map[string]string{
			string(legacyKey("talk", "", "alice")): `{"room":"hall","reaction":"👍","updated":"2026-01-02T03:04:05Z"}`,
			string(legacyKey("talk", "c1", "bob")): `{"room":"hall","reaction":"❤️","incognito":true,"updated":"2026-01-02T03:04:05Z"}`,
			string(legacyKey("talk", "", "carol")): `{"room":"expo-hall","world":"expo","reaction":"😮","updated":"2026-01-02T03:04:05Z"}`,
		}
		for k, v := range rows {
			if err := b.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		w, err := tx.CreateBucket([]byte("resource_reaction_worlds"))
		if err != nil {
			return err
		}
		return w.Put([]byte("expo"), binary.AppendUvarint(nil, 1))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}
