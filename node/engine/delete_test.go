package engine

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/announce"
	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/edge"
	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/store/bolt"
)

// closedFirst is a RoomWriter whose Delete finds the room closed by
// another path first (the operator's finalizer, through the admin API,
// while a node under Kubernetes deletes the Rooms), as node/kube's does.
type closedFirst struct {
	*catalog.Catalog
	eng *Engine
}

func (w *closedFirst) Delete(ctx context.Context, id string) error {
	if err := w.eng.DeleteRoom(ctx, id); err != nil { // the admin API's DELETE
		return err
	}
	return fmt.Errorf("room %q: %w", id, ErrClosedMeanwhile)
}

// deliveries counts the events delivered, by kind.
type deliveries struct {
	mu sync.Mutex
	n  map[op.EventKind]int
}

func (d *deliveries) Deliver(ev *op.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n[ev.Kind]++
}

func (d *deliveries) count(k op.EventKind) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n[k]
}

// TestDeleteClosedMeanwhileToldOnce: a websocket room.delete whose room
// was closed by the admin API while it ran succeeds, and the clients are
// told of the deletion once, by the path that closed it.
func TestDeleteClosedMeanwhileToldOnce(t *testing.T) {
	st, err := bolt.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	cat, err := catalog.Open(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.Upsert(ctx, &catalog.Room{ID: "r", Name: "R"}); err != nil {
		t.Fatal(err)
	}
	told := &deliveries{n: map[op.EventKind]int{}}
	w := &closedFirst{Catalog: cat}
	eng := New(Config{WorldID: "w", Builtin: true}, Deps{
		Policy:  &auth.Policy{Roles: auth.DefaultRoles(), WorldGrants: auth.DevGrants()},
		Catalog: cat, Owner: &gatedOwner{present: map[string]bool{}}, Edge: edge.New("local"),
		Rooms: w, Announce: announce.New(told, 0), Logger: testkit.Logger(t),
	})
	w.eng = eng
	u := &auth.User{ID: "admin", Traits: []string{"admin"}}
	c := eng.NewClient(u, nopSink{"admin"})
	c.Start()
	if _, oerr := c.Do(ctx, op.DeleteRoom{Room: "r"}); oerr != nil {
		t.Fatalf("room.delete: %v", oerr)
	}
	if n := told.count(op.EvRoomDelete); n != 1 {
		t.Fatalf("room.delete told %d times, want 1", n)
	}
}
