package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/roomring/roomring/node/store"
	"github.com/roomring/roomring/node/store/postgres/pgtest"
)

// TestReactionRoomsMigration: a database with reactions stored under
// migration 0001 upgrades to 0002 with the old rows in room "" and counted
// there, and later writes are counted in their rooms.
func TestReactionRoomsMigration(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(ctx, pool, ms[:1]); err != nil {
		t.Fatal(err)
	}
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
