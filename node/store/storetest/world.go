package storetest

import (
	"errors"
	"fmt"
	"slices"
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
// reaction to a full world; replacements, deletes, other worlds and a
// lowered quota behave as store.ResourceReactions documents; the built-in
// world "" is counted like any other.
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
	// Another world has its own count; the same user and resource there
	// is another reaction, refused when that world is full.
	putWithin(t, s, inWorld("wb", a("carol", "talk")), 2, nil)
	checkWorld(t, s, "wb", 1)
	putWithin(t, s, inWorld("wb", a("alice", "talk")), 1, store.ErrQuotaExceeded)
	putWithin(t, s, inWorld("wb", a("alice", "talk")), 2, nil)
	checkWorld(t, s, "wa", 2)
	checkWorld(t, s, "wb", 2)
	// A delete frees one.
	if _, err := s.DeleteReaction(ctx, inWorld("wb", a("carol", "talk")).ReactionKey); err != nil {
		t.Fatal(err)
	}
	checkWorld(t, s, "wb", 1)
	checkWorld(t, s, "wa", 2)
	putWithin(t, s, inWorld("wb", a("dave", "poster")), 2, nil)
	// 0 is no bound, and still counted.
	for i := range 3 {
		putWithin(t, s, a(fmt.Sprint("u", i), "poster"), 0, nil)
	}
	checkWorld(t, s, "wa", 5)
	// The built-in world "" is counted and bounded like the others.
	checkWorld(t, s, "", 0)
	putWithin(t, s, inRoom("hall", R("talk", "", "erin", "👍", false)), 1, nil)
	putWithin(t, s, inRoom("hall", R("talk", "", "frank", "👍", false)), 1, store.ErrQuotaExceeded)
	checkWorld(t, s, "", 1)
	if got, err := s.Reaction(ctx, store.ReactionKey{Resource: "talk", UserID: "erin"}); err != nil || got.World != "" {
		t.Fatalf("Reaction of the built-in world = %+v, %v", got, err)
	}
}

// testWorldIsolation: the same resource, comment and user ids in two
// worlds are two reactions: a put, replace or delete in one leaves the
// other's as it was, and each world's reads (Reaction, ReactionsOf) and
// counts see only its own; the built-in world "" is one of them.
func testWorldIsolation(t *testing.T, s store.Store) {
	in := func(world, user, reaction string) store.ResourceReaction {
		return inWorld(world, inRoom("hall-"+world, R("talk", "c", user, reaction, false)))
	}
	put(t, s, in("wa", "alice", "👍"))
	put(t, s, in("wb", "alice", "❤️"))
	put(t, s, in("", "alice", "😮"))
	put(t, s, in("wb", "bob", "👏"))
	checkListIn(t, s, "wa", in("wa", "alice", "👍"))
	checkListIn(t, s, "wb", in("wb", "alice", "❤️"), in("wb", "bob", "👏"))
	checkListIn(t, s, "", in("", "alice", "😮"))
	checkListIn(t, s, "wc")
	for _, w := range []string{"wa", "wb", ""} {
		k := in(w, "alice", "").ReactionKey
		if got, err := s.Reaction(ctx, k); err != nil || got.World != w || got.Room != "hall-"+w {
			t.Fatalf("Reaction(%+v) = %+v, %v", k, got, err)
		}
	}
	checkWorld(t, s, "wa", 1)
	checkWorld(t, s, "wb", 2)
	checkWorld(t, s, "", 1)
	// A replacement in one world stays there.
	put(t, s, in("wa", "alice", "🤣"))
	checkListIn(t, s, "wa", in("wa", "alice", "🤣"))
	checkListIn(t, s, "wb", in("wb", "alice", "❤️"), in("wb", "bob", "👏"))
	checkListIn(t, s, "", in("", "alice", "😮"))
	// A delete in one world removes only that world's.
	old, err := s.DeleteReaction(ctx, in("wb", "alice", "").ReactionKey)
	if err != nil || !sameReaction(old, in("wb", "alice", "❤️")) {
		t.Fatalf("DeleteReaction in wb = %+v, %v", old, err)
	}
	if _, err := s.DeleteReaction(ctx, in("wb", "alice", "").ReactionKey); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete in wb = %v, want ErrNotFound", err)
	}
	if _, err := s.DeleteReaction(ctx, in("wc", "alice", "").ReactionKey); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete in a world without the reaction = %v, want ErrNotFound", err)
	}
	checkListIn(t, s, "wa", in("wa", "alice", "🤣"))
	checkListIn(t, s, "wb", in("wb", "bob", "👏"))
	checkListIn(t, s, "", in("", "alice", "😮"))
	checkWorld(t, s, "wa", 1)
	checkWorld(t, s, "wb", 1)
	checkWorld(t, s, "", 1)
}

// List returns the built-in world's reactions to (resource, comment) in
// the order ReactionsOf gives them.
func List(t *testing.T, s store.Store, resource, comment string) []store.ResourceReaction {
	t.Helper()
	return ListIn(t, s, "", resource, comment)
}

// ListIn returns world's reactions to (resource, comment) in the order
// ReactionsOf gives them.
func ListIn(t *testing.T, s store.ResourceReactions, world, resource, comment string) []store.ResourceReaction {
	t.Helper()
	var out []store.ResourceReaction
	if err := s.ReactionsOf(ctx, world, resource, comment, func(r store.ResourceReaction) bool {
		out = append(out, r)
		return true
	}); err != nil {
		t.Fatalf("ReactionsOf(%q, %q, %q): %v", world, resource, comment, err)
	}
	return out
}

func checkListIn(t *testing.T, s store.Store, world string, want ...store.ResourceReaction) {
	t.Helper()
	got := ListIn(t, s, world, "talk", "c")
	if !slices.EqualFunc(got, want, sameReaction) {
		t.Fatalf("ReactionsOf(%q, talk, c) =\n  %+v\nwant\n  %+v", world, got, want)
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
	for _, world := range worlds {
		for _, r := range ListIn(t, stores[0], world, "talk", "") {
			rows[r.World]++
		}
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
