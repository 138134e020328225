package postgres_test

import (
	"testing"
	"time"

	"github.com/roomring/roomring/node/store"
	"github.com/roomring/roomring/node/store/postgres/pgtest"
	"github.com/roomring/roomring/node/store/storetest"
)

// TestWorldQuotaTwoStores: two stores over one database — two nodes of a
// pool, each with its own group committer batching writes — put reactions
// into one world at once; exactly the world's quota are stored and counted.
func TestWorldQuotaTwoStores(t *testing.T) {
	cfg := config(pgtest.DB(t))
	cfg.BatchMaxDelay = 2 * time.Millisecond // batches of several writes
	a, _ := open(t, cfg)
	b, _ := open(t, cfg)
	storetest.WorldQuotaRace(t, []store.ResourceReactions{a, b}, 96, 25)
}
