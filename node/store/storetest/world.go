package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/roomring/roomring/node/store"
)

// inWorld is r made in world.
func inWorld(world string, r store.ResourceReaction) store.ResourceReaction {
	r.World = world
	return r
}

func checkWorld(t *testing.T, s store.Store, world string, want int) {
	t.Helper()
	if got, err := s.WorldReactions(ctx, world); err != nil || got != want {
		t.Fatalf("WorldReactions(%q) = %d, %v; want %d", world, got, err, want)
	}
}

func putWithin(t *testing.T, s store.Store, r store.ResourceReaction, max int, want error) {
	t.Helper()
	if err := s.PutReaction(ctx, r, max); !errors.Is(err, want) || (want == nil && err != nil) {
		t.Fatalf("PutReaction(%s/%s by %s in %q, max %d) = %v, want %v", r.Resource, r.Comment, r.UserID, r.World, max, err, want)
	}
}

// testWorldQuota: PutReaction's worldMax refuses only writes that add a
// reaction to a full world; replacements, deletes, other worlds, moves
// between worlds and a lowered quota behave as store.ResourceReactions
// documents; rows of world "" are not counted.
func testWorldQuota(t *testing.T, s store.Store) {
	a := func(user, resource string) store.ResourceReaction {
		return inWorld("wa", inRoom("hall", R(resource, "", user, "👍", false)))
	}
	checkWorld(t, s, "wa", 0)
	putWithin(t, s, a("alice", "talk"), 2, nil)
	putWithin(t, s, a("bob", "talk"), 2, nil)
	putWithin(t, s, a("carol", "talk"), 2, store.ErrQuotaExceeded)
	if _, err := s.Reaction(ctx, a("carol", "talk").ReactionKey); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused put was stored: Reaction = %v", err)
	}
	checkWorld(t, s, "wa", 2)
	// A replacement in the same world adds nothing, even over a lowered quota.
	repl := a("alice", "talk")
	repl.Reaction = "❤️"
	putWithin(t, s, repl, 2, nil)
	putWithin(t, s, repl, 1, nil)
	if got, err := s.Reaction(ctx, repl.ReactionKey); err != nil || got.Reaction != "❤️" || got.World != "wa" {
		t.Fatalf("Reaction after replacement = %+v, %v", got, err)
	}
	// Another world has its own count.
	putWithin(t, s, inWorld("wb", a("carol", "talk")), 2, nil)
	checkWorld(t, s, "wb", 1)
	// A key moving to another world adds to that world: refused when it is
	// full, and then it stays in its own.
	putWithin(t, s, inWorld("wb", a("alice", "talk")), 1, store.ErrQuotaExceeded)
	checkWorld(t, s, "wa", 2)
	putWithin(t, s, inWorld("wb", a("alice", "talk")), 2, nil)
	checkWorld(t, s, "wa", 1)
	checkWorld(t, s, "wb", 2)
	// A delete frees one.
	if _, err := s.DeleteReaction(ctx, a("carol", "talk").ReactionKey); err != nil {
		t.Fatal(err)
	}
	checkWorld(t, s, "wb", 1)
	putWithin(t, s, inWorld("wb", a("dave", "poster")), 2, nil)
	// 0 is no bound, and still counted.
	for i := range 3 {
		putWithin(t, s, a(fmt.Sprint("u", i), "poster"), 0, nil)
	}
	checkWorld(t, s, "wa", 4)
	// Rows of no world count against none.
	putWithin(t, s, inRoom("hall", R("talk", "", "erin", "👍", false)), 1, nil)
	putWithin(t, s, inRoom("hall", R("talk", "", "frank", "👍", false)), 1, nil)
	checkWorld(t, s, "", 0)
	if got, err := s.Reaction(ctx, store.ReactionKey{Resource: "talk", UserID: "frank"}); err != nil || got.World != "" {
		t.Fatalf("Reaction of no world = %+v, %v", got, err)
	}
}

// WorldQuotaRace puts writers reactions of distinct users into the
// worlds given (writer i into worlds[i%len(worlds)]) with quota max each,
// all at once, through the stores given (writer i through stores[i/2 %
// len(stores)]: several stores over one database are several nodes, each
// batching writes of several worlds), and checks that exactly max were
// stored and counted in each world.
func WorldQuotaRace(t *testing.T, stores []store.ResourceReactions, worlds []string, writers, max int) {
	t.Helper()
	stored := make([]atomic.Int64, len(worlds))
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := i % len(worlds)
			r := inWorld(worlds[w], inRoom(fmt.Sprint("room", i%4), R("talk", "", fmt.Sprintf("u%03d", i), "👍", false)))
			err := stores[i/2%len(stores)].PutReaction(ctx, r, max)
			switch {
			case err == nil:
				stored[w].Add(1)
			case !errors.Is(err, store.ErrQuotaExceeded):
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	rows := map[string]int{}
	if err := stores[0].ReactionsOf(ctx, "talk", "", func(r store.ResourceReaction) bool {
		rows[r.World]++
		return true
	}); err != nil {
		t.Fatal(err)
	}
	for w, world := range worlds {
		if got := stored[w].Load(); got != int64(max) {
			t.Fatalf("%d writers stored a reaction in %s, want the quota %d", got, world, max)
		}
		got, err := stores[0].WorldReactions(ctx, world)
		if err != nil || got != max || rows[world] != max {
			t.Fatalf("%s holds %d rows, counted %d (%v); want %d", world, rows[world], got, err, max)
		}
	}
}
