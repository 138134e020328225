package postgres

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/roomring/roomring/node/store"
)

// TestReactionWorldKeyMigration: a database at migration 0003, holding
// rows from before worlds (world ”) and a row of world expo, upgrades to
// 0004: each row stays in its world (” is the built-in world's), every
// world is counted, the built-in world too, and the same user and
// resource in another world is then a reaction of its own.
func TestReactionWorldKeyMigration(t *testing.T) {
	ctx := context.Background()
	pool, ms := databaseAt(t, 3)
	for _, row := range [][2]string{{"a", ""}, {"b", ""}, {"c", "expo"}} {
		if _, err := pool.Exec(ctx, `INSERT INTO roomring_resource_reactions (resource, comment, user_id, reaction, incognito, updated, room, world)
			VALUES ('talk', '', $1, '👍', false, now(), 'hall', $2)`, row[0], row[1]); err != nil {
			t.Fatal(err)
		}
	}
	if applied, err := migrate(ctx, pool, ms); err != nil || len(applied) != len(ms)-3 {
		t.Fatalf("upgrade applied %v: %v", applied, err)
	}
	s := &Store{pool: pool, cfg: DefaultConfig()}
	s.m = newMetrics(s)
	users := func(world string) []string {
		t.Helper()
		var out []string
		if err := s.ReactionsOf(ctx, world, "talk", "", func(r store.ResourceReaction) bool {
			out = append(out, r.UserID+":"+r.Reaction)
			return true
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	count := func(world string, want int) {
		t.Helper()
		if got, err := s.WorldReactions(ctx, world); err != nil || got != want {
			t.Fatalf("WorldReactions(%q) = %d, %v; want %d", world, got, err, want)
		}
	}
	if got := users(""); !slices.Equal(got, []string{"a:👍", "b:👍"}) {
		t.Fatalf("the built-in world's rows after the upgrade: %v", got)
	}
	if got := users("expo"); !slices.Equal(got, []string{"c:👍"}) {
		t.Fatalf("expo's rows after the upgrade: %v", got)
	}
	count("", 2)
	count("expo", 1)
	put := func(user, world string, max int) bool {
		t.Helper()
		var stored bool
		err := pool.QueryRow(ctx, sqlPutReaction, "talk", "", user, "❤️", false, time.Now(), "hall", world, max).Scan(&stored)
		if err != nil {
			t.Fatal(err)
		}
		return stored
	}
	// a's reaction in expo is new there; a's old one stays the built-in world's.
	if !put("a", "expo", 2) || put("b", "expo", 2) {
		t.Fatal("expo with a quota of 2: want a's reaction stored and b's refused")
	}
	if got := users(""); !slices.Equal(got, []string{"a:👍", "b:👍"}) {
		t.Fatalf("the built-in world's rows after writes in expo: %v", got)
	}
	if got := users("expo"); !slices.Equal(got, []string{"a:❤️", "c:👍"}) {
		t.Fatalf("expo's rows: %v", got)
	}
	// The built-in world's quota counts its old rows.
	if put("d", "", 2) || !put("a", "", 2) {
		t.Fatal("the built-in world with a quota of 2 holding 2: want d's new reaction refused and a's replacement stored")
	}
	count("", 2)
	count("expo", 2)
}
