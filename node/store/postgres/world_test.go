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
// into two worlds at once; exactly each world's quota are stored and
// counted. Batches of both worlds in either order on both committers may
// deadlock in PostgreSQL; the committer reruns such a batch write by write.
func TestWorldQuotaTwoStores(t *testing.T) {
	cfg := config(pgtest.DB(t))
	cfg.BatchMaxDelay = 2 * time.Millisecond // batches of several writes
	a, _ := open(t, cfg)
	b, _ := open(t, cfg)
	storetest.WorldQuotaRace(t, []store.ResourceReactions{a, b}, []string{"expo", "fair"}, 192, 25)
}
