package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/roomring/roomring/node/store"
	"github.com/roomring/roomring/node/store/postgres/pgtest"
)

// TestReactionRoomsMigration: a database with reactions stored under
// migration 0001 upgrades to 0002 with the old rows in room "" and counted
// there, and later writes are counted in their rooms.
func TestReactionRoomsMigration(t *testing.T) {
	ctx := context.Background()
	pool, ms := databaseAt(t, 1)
	for _, u := range []string{"a", "b"} {
		if _, err := pool.Exec(ctx, `INSERT INTO roomring_resource_reactions (resource, comment, user_id, reaction, incognito, updated)
			VALUES ('talk', '', $1, '👍', false, now())`, u); err != nil {
			t.Fatal(err)
		}
	}
	if applied, err := migrate(ctx, pool, ms); err != nil || len(applied) != len(ms)-1 {
		t.Fatalf("upgrade applied %v: %v", applied, err)
	}
	s := &Store{pool: pool, cfg: DefaultConfig()}
	s.m = newMetrics(s)
	use, err := s.ReactionUsage(ctx, "", store.ReactionKey{Resource: "talk", UserID: "a"})
	if err != nil || use != (store.ReactionUsage{UserReactions: 1, Targets: 1, HasTarget: true}) {
		t.Fatalf("old rows after the upgrade: %+v, %v", use, err)
	}
}

// TestReactionWorldsMigration: rows stored before migration 0003 get the
// empty world and are counted against no world; replacing one in a world moves it
// there, and the world's quota applies to that move.
func TestReactionWorldsMigration(t *testing.T) {
	ctx := context.Background()
	pool, ms := databaseAt(t, 2)
	for _, u := range []string{"a", "b"} {
		if _, err := pool.Exec(ctx, `INSERT INTO roomring_resource_reactions (resource, comment, user_id, reaction, incognito, updated, room)
			VALUES ('talk', '', $1, '👍', false, now(), 'hall')`, u); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := migrate(ctx, pool, ms[:3]); err != nil { // 0004 changes the key: TestReactionWorldKeyMigration
		t.Fatal(err)
	}
	s := &Store{pool: pool, cfg: DefaultConfig()}
	s.m = newMetrics(s)
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM roomring_resource_reaction_worlds WHERE reactions <> 0`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("worlds counted after the upgrade: %d, %v; want none", n, err)
	}
	put := func(user string, max int) bool {
		var stored bool
		err := pool.QueryRow(ctx, sqlPutReaction, "talk", "", user, "❤️", false, time.Now(), "hall", "expo", max).Scan(&stored)
		if err != nil {
			t.Fatal(err)
		}
		return stored
	}
	if !put("a", 1) || put("b", 1) {
		t.Fatal("moving old rows into a world of 1: want the first stored and the second refused")
	}
	if got, err := s.WorldReactions(ctx, "expo"); err != nil || got != 1 {
		t.Fatalf("expo counts %d, %v; want 1", got, err)
	}
}

// databaseAt returns a pool on a new database holding the first n
// migrations, and every migration (to upgrade it with migrate).
func databaseAt(t *testing.T, n int) (*pgxpool.Pool, []migration) {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(context.Background(), pool, ms[:n]); err != nil {
		t.Fatal(err)
	}
	return pool, ms
}
