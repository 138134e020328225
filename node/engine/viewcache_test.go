package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/edge"
	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/store/bolt"
)

// jsonWorld is a WorldEncoder for the engine's own tests (the venueless
// encoder is tested in its package): any pure encoding of every field.
func jsonWorld(w WorldView) []byte {
	b, err := json.Marshal(w)
	if err != nil {
		panic(err)
	}
	return b
}

// newViewEngine is an engine of the built-in world "default" over a real
// catalog (bolt, in a temporary directory) and edge, with max cached views.
func newViewEngine(t testing.TB, max int) (*Engine, *catalog.Catalog, *edge.Edge) {
	t.Helper()
	st, err := bolt.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cat, err := catalog.Open(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	ed := edge.New("local")
	e := New(Config{WorldID: "default", Builtin: true, WorldViewCacheEntries: max},
		Deps{Policy: &auth.Policy{Roles: auth.DefaultRoles(), WorldGrants: auth.DevGrants()}, Catalog: cat, Edge: ed,
			EncodeWorld: jsonWorld})
	return e, cat, ed
}

var viewTraits = []string{"admin", "moderator", "speaker", "vip", "unrelated"}

func randomUser(rng *rand.Rand, rooms []string) *auth.User {
	u := &auth.User{ID: fmt.Sprintf("u%d", rng.IntN(1000))}
	if len(rooms) > 0 && rng.IntN(5) == 0 {
		u.Guest, u.InviteRoom = true, rooms[rng.IntN(len(rooms))]
		if rng.IntN(2) == 0 {
			u.Traits = []string{"admin"} // an invitee's traits do not count
		}
		return u
	}
	for _, t := range viewTraits {
		if rng.IntN(3) == 0 {
			u.Traits = append(u.Traits, t)
		}
	}
	if rng.IntN(4) == 0 {
		u.Traits = append(u.Traits, fmt.Sprintf("order-%d", rng.IntN(1000))) // unique, named by no grant
	}
	if len(u.Traits) > 1 && rng.IntN(3) == 0 {
		u.Traits = append(u.Traits, u.Traits[0]) // repeated
	}
	return u
}

func randomGrants(rng *rand.Rand) auth.Grants {
	g := auth.Grants{}
	for _, role := range []string{"viewer", "participant", "moderator", "admin"} {
		switch rng.IntN(4) {
		case 0:
			g[role] = []auth.Rule{{viewTraits[rng.IntN(len(viewTraits))]}}
		case 1:
			g[role] = []auth.Rule{}
		}
	}
	return g
}

// TestEncodedWorldEqualsBuilt is a property test: for random sequences of
// catalog changes (create, rename, delete, reorder, grants, reactions,
// schedule), occupancy changes, world reconfigurations and users (traits,
// repeats, traits no grant names, invitees), the cached encoding equals
// the view built and encoded afresh, byte for byte — with a cache big
// enough to keep every class and with one that evicts.
func TestEncodedWorldEqualsBuilt(t *testing.T) {
	for _, max := range []int{64, 2} {
		t.Run(fmt.Sprint("max", max), func(t *testing.T) {
			ctx := context.Background()
			e, cat, ed := newViewEngine(t, max)
			rng := rand.New(rand.NewPCG(1, uint64(max)))
			var ids []string
			hits := 0
			for step := range 600 {
				switch k := rng.IntN(10); {
				case k == 0 || len(ids) == 0:
					id := fmt.Sprintf("r%d", step)
					r := &catalog.Room{ID: id, Name: fmt.Sprintf("Room %d", rng.IntN(50)), ShowViewers: rng.IntN(2) == 0}
					if rng.IntN(2) == 0 {
						r.TraitGrants = randomGrants(rng)
					}
					if err := cat.Upsert(ctx, r); err != nil {
						t.Fatal(err)
					}
					ids = append(ids, id)
				case k == 1:
					i := rng.IntN(len(ids))
					if err := cat.Delete(ctx, ids[i]); err != nil {
						t.Fatal(err)
					}
					ed.Deliver(op.NewRoomDeleted("default", ids[i]))
					ids = append(ids[:i], ids[i+1:]...)
				case k == 2:
					r := cat.Get(ids[rng.IntN(len(ids))])
					r.Name = fmt.Sprintf("Renamed %d", step)
					r.TraitGrants = randomGrants(rng)
					if rng.IntN(2) == 0 {
						r.AllowedReactions = []string{"👍"}
					}
					if err := cat.Upsert(ctx, r); err != nil {
						t.Fatal(err)
					}
				case k == 3:
					order := append([]string(nil), ids...)
					rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
					if _, err := cat.Reorder(ctx, e.Scope(), order[:rng.IntN(len(order)+1)]); err != nil {
						t.Fatal(err)
					}
				case k == 4:
					if err := cat.SetSchedule(ctx, ids[rng.IntN(len(ids))], map[string]any{"title": fmt.Sprint(step)}); err != nil {
						t.Fatal(err)
					}
				case k == 5:
					buckets := []op.Occupancy{op.OccupancyNone, op.OccupancyFew, op.OccupancyMany}
					ed.Deliver(op.NewUserCount(ids[rng.IntN(len(ids))], buckets[rng.IntN(3)]))
				case k == 6 && rng.IntN(4) == 0:
					cfg := e.settings().cfg
					cfg.WorldTitle = fmt.Sprintf("Event %d", step)
					if rng.IntN(2) == 0 {
						cfg.Reactions = []string{"👏", "🤣"}
					} else {
						cfg.Reactions = nil
					}
					e.Reconfigure(cfg, nil, &auth.Policy{Roles: auth.DefaultRoles(), WorldGrants: randomGrants(rng)})
				}
				for range 4 {
					u := randomUser(rng, ids)
					set := e.settings()
					want := jsonWorld(e.world(set, u))
					got := e.encodedWorld(set, u)
					if !bytes.Equal(got, want) {
						t.Fatalf("step %d, user %+v:\ncached %s\nbuilt  %s", step, u, got, want)
					}
					if g := set.views.cur.Load(); g != nil && g.get(g.key(u)) != nil {
						hits++
					}
				}
			}
			if hits == 0 {
				t.Fatal("nothing was ever cached")
			}
		})
	}
}

// TestViewKey: the class of a user is its relevant traits as a set, or
// its invite room.
func TestViewKey(t *testing.T) {
	g := &viewGen{relevant: map[string]struct{}{"admin": {}, "vip": {}, "a:b": {}, "a": {}}}
	key := func(u auth.User) string { return g.key(&u) }
	same := [][2]auth.User{
		{{Traits: []string{"vip", "admin"}}, {Traits: []string{"admin", "vip", "vip", "order-17"}}},
		{{}, {Traits: []string{"order-17"}, Guest: true}},
		{{InviteRoom: "r1"}, {InviteRoom: "r1", Traits: []string{"admin"}}},
	}
	for _, p := range same {
		if key(p[0]) != key(p[1]) {
			t.Errorf("%+v and %+v: keys %q and %q, want equal", p[0], p[1], key(p[0]), key(p[1]))
		}
	}
	differ := [][2]auth.User{
		{{Traits: []string{"admin"}}, {Traits: []string{"vip"}}},
		{{Traits: []string{"a:b"}}, {Traits: []string{"a", "b"}}},
		{{InviteRoom: "r1"}, {InviteRoom: "r2"}},
		{{InviteRoom: "tadmin"}, {Traits: []string{"admin"}}},
		{{}, {InviteRoom: "x"}},
	}
	for _, p := range differ {
		if key(p[0]) == key(p[1]) {
			t.Errorf("%+v and %+v: both key %q", p[0], p[1], key(p[0]))
		}
	}
}

// TestEncodedWorldRacesChanges: views built while rooms are renamed and
// occupancies change are never cached under an epoch they do not show —
// once the changes stop, every class's cached view is the fresh one.
func TestEncodedWorldRacesChanges(t *testing.T) {
	ctx := context.Background()
	e, cat, ed := newViewEngine(t, 64)
	for i := range 20 {
		if err := cat.Upsert(ctx, &catalog.Room{ID: fmt.Sprint("r", i), Name: "Room"}); err != nil {
			t.Fatal(err)
		}
	}
	users := []*auth.User{{ID: "a"}, {ID: "b", Traits: []string{"admin"}}, {ID: "c", InviteRoom: "r3"}}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for _, u := range users {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					e.encodedWorld(e.settings(), u)
				}
			}
		})
	}
	buckets := []op.Occupancy{op.OccupancyFew, op.OccupancyMany, op.OccupancyNone}
	for i := range 300 {
		r := cat.Get(fmt.Sprint("r", i%20))
		r.Name = fmt.Sprint("Room ", i)
		if err := cat.Upsert(ctx, r); err != nil {
			t.Fatal(err)
		}
		ed.Deliver(op.NewUserCount(fmt.Sprint("r", i%7), buckets[i%3]))
	}
	close(stop)
	wg.Wait()
	for _, u := range users {
		set := e.settings()
		if got, want := e.encodedWorld(set, u), jsonWorld(e.world(set, u)); !bytes.Equal(got, want) {
			t.Errorf("user %s after the changes:\ncached %s\nbuilt  %s", u.ID, got, want)
		}
	}
}
