// Package storetest is the conformance suite of store.Store: every
// implementation (bolt, postgres) runs it from its tests, so both behave the
// same to the catalog and to resource reactions.
//
// The suite covers every method, replace semantics, the user id (byte)
// order of ReactionsOf, invites, rooms, concurrent writers (every
// acknowledged write present afterwards) and durability across Close and
// reopen. Times are compared at millisecond precision, the precision the
// reaction owner stamps with.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roomring/roomring/node/store"
)

// Opener opens the store under test over one storage; calling it again
// after the store was closed reopens the same data.
type Opener func(t *testing.T) store.Store

// Factory returns an Opener over fresh, empty storage.
type Factory func(t *testing.T) Opener

// Options size the suite's load for the implementation.
type Options struct {
	// Writers is the number of concurrent writers (default 16).
	Writers int
	// WritesPerWriter is each writer's number of writes (default 40).
	WritesPerWriter int
}

// Run runs the suite against the stores newStorage provides.
func Run(t *testing.T, newStorage Factory, opts Options) {
	if opts.Writers == 0 {
		opts.Writers = 16
	}
	if opts.WritesPerWriter == 0 {
		opts.WritesPerWriter = 40
	}
	open := func(t *testing.T) store.Store {
		t.Helper()
		s := newStorage(t)(t)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	t.Run("Rooms", func(t *testing.T) { testRooms(t, open(t)) })
	t.Run("Invites", func(t *testing.T) { testInvites(t, open(t)) })
	t.Run("Reactions", func(t *testing.T) { testReactions(t, open(t)) })
	t.Run("ReactionOrder", func(t *testing.T) { testReactionOrder(t, open(t)) })
	t.Run("ReactionUsage", func(t *testing.T) { testReactionUsage(t, open(t)) })
	t.Run("WorldQuota", func(t *testing.T) { testWorldQuota(t, open(t)) })
	t.Run("WorldIsolation", func(t *testing.T) { testWorldIsolation(t, open(t)) })
	t.Run("WorldQuotaRace", func(t *testing.T) {
		WorldQuotaRace(t, []store.ResourceReactions{open(t)}, []string{"race-a", "race-b"}, opts.Writers*4, opts.Writers)
	})
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrent(t, open(t), opts) })
	t.Run("Reopen", func(t *testing.T) { testReopen(t, newStorage(t)) })
}

// At is the suite's reference time.
var At = time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

var ctx = context.Background()

func testRooms(t *testing.T, s store.Store) {
	got, err := s.Rooms(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("Rooms of an empty store = %v, %v", got, err)
	}
	if err := s.PutRooms(ctx, map[string][]byte{}); err != nil {
		t.Fatalf("PutRooms(empty): %v", err)
	}
	want := map[string][]byte{"a": []byte(`{"id":"a","name":"A"}`), "b": []byte(`{"id":"b"}`), "ü-c": []byte(`{}`)}
	if err := s.PutRooms(ctx, want); err != nil {
		t.Fatal(err)
	}
	checkRooms(t, s, want)
	// Replace one, keep the others.
	if err := s.PutRooms(ctx, map[string][]byte{"a": []byte(`{"id":"a","name":"A2"}`)}); err != nil {
		t.Fatal(err)
	}
	want["a"] = []byte(`{"id":"a","name":"A2"}`)
	checkRooms(t, s, want)
	if err := s.DeleteRoom(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	delete(want, "a")
	checkRooms(t, s, want)
	if err := s.DeleteRoom(ctx, "never-existed"); err != nil {
		t.Fatalf("DeleteRoom of an unknown room: %v", err)
	}
	checkRooms(t, s, want)
}

func checkRooms(t *testing.T, s store.Store, want map[string][]byte) {
	t.Helper()
	got, err := s.Rooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(got, want, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Fatalf("Rooms = %s, want %s", fmtRooms(got), fmtRooms(want))
	}
}

func fmtRooms(m map[string][]byte) string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = string(v)
	}
	return fmt.Sprint(out)
}

func testInvites(t *testing.T, s store.Store) {
	if _, err := s.Invite(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Invite(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.RoomInvite(ctx, "r1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RoomInvite(no invites) = %v, want ErrNotFound", err)
	}
	if err := s.PutRooms(ctx, map[string][]byte{"r1": []byte(`{}`), "r2": []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	i1 := store.Invite{Code: "abc123", Room: "r1", Expires: At.Add(time.Hour)}
	i2 := store.Invite{Code: "XYZ789", Room: "r1", Expires: At.Add(2 * time.Hour)}
	i3 := store.Invite{Code: "other1", Room: "r2", Expires: At.Add(3 * time.Hour)}
	for _, inv := range []store.Invite{i1, i3} {
		if err := s.PutInvite(ctx, inv); err != nil {
			t.Fatal(err)
		}
	}
	checkInvite(t, s, i1)
	checkRoomInvite(t, s, "r1", i1)
	checkRoomInvite(t, s, "r2", i3)

	// A newer invite of the room becomes the room's invite; the older code
	// stays redeemable.
	if err := s.PutInvite(ctx, i2); err != nil {
		t.Fatal(err)
	}
	checkRoomInvite(t, s, "r1", i2)
	checkInvite(t, s, i1)
	// Putting an existing code again (a renewal) replaces it and makes it
	// the room's newest.
	i1.Expires = At.Add(5 * time.Hour)
	if err := s.PutInvite(ctx, i1); err != nil {
		t.Fatal(err)
	}
	checkInvite(t, s, i1)
	checkRoomInvite(t, s, "r1", i1)

	// Deleting a room removes its invite, not other rooms' invites.
	if err := s.DeleteRoom(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RoomInvite(ctx, "r1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RoomInvite of a deleted room = %v, want ErrNotFound", err)
	}
	if _, err := s.Invite(ctx, i1.Code); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Invite of a deleted room's newest code = %v, want ErrNotFound", err)
	}
	checkInvite(t, s, i3)
	checkRoomInvite(t, s, "r2", i3)
}

func checkInvite(t *testing.T, s store.Store, want store.Invite) {
	t.Helper()
	got, err := s.Invite(ctx, want.Code)
	if err != nil || !sameInvite(got, want) {
		t.Fatalf("Invite(%s) = %+v, %v; want %+v", want.Code, got, err, want)
	}
}

func checkRoomInvite(t *testing.T, s store.Store, room string, want store.Invite) {
	t.Helper()
	got, err := s.RoomInvite(ctx, room)
	if err != nil || !sameInvite(got, want) {
		t.Fatalf("RoomInvite(%s) = %+v, %v; want %+v", room, got, err, want)
	}
}

func sameInvite(a, b store.Invite) bool {
	return a.Code == b.Code && a.Room == b.Room && a.Expires.Equal(b.Expires)
}

// R builds a reaction stamped At.
func R(resource, comment, user, reaction string, incognito bool) store.ResourceReaction {
	return store.ResourceReaction{ReactionKey: store.ReactionKey{Resource: resource, Comment: comment, UserID: user},
		Reaction: reaction, Incognito: incognito, Updated: At}
}

func put(t *testing.T, s store.Store, r store.ResourceReaction) {
	t.Helper()
	if err := s.PutReaction(ctx, r, 0); err != nil {
		t.Fatalf("PutReaction(%+v): %v", r, err)
	}
}

func sameReaction(a, b store.ResourceReaction) bool {
	return a.ReactionKey == b.ReactionKey && a.Room == b.Room && a.Reaction == b.Reaction && a.Incognito == b.Incognito && a.Updated.Equal(b.Updated)
}

func checkList(t *testing.T, s store.Store, resource, comment string, want ...store.ResourceReaction) {
	t.Helper()
	got := List(t, s, resource, comment)
	if !slices.EqualFunc(got, want, sameReaction) {
		t.Fatalf("ReactionsOf(%q, %q) =\n  %+v\nwant\n  %+v", resource, comment, got, want)
	}
}

func testReactions(t *testing.T, s store.Store) {
	key := store.ReactionKey{Resource: "talk", UserID: "alice"}
	if _, err := s.Reaction(ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Reaction(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.DeleteReaction(ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteReaction(unknown) = %v, want ErrNotFound", err)
	}
	checkList(t, s, "talk", "")

	put(t, s, R("talk", "", "alice", "👍", false))
	put(t, s, R("talk", "", "bob", "❤️", true))
	replaced := R("talk", "", "alice", "👏", false)
	replaced.Updated = At.Add(time.Second)
	put(t, s, replaced) // replaces alice's 👍
	put(t, s, R("talk", "c1", "alice", "😮", false))
	// Ids that would collide under a naive concatenation of the key.
	put(t, s, R("tal", "k", "y", "b", false))
	put(t, s, R("talk", "", "", "empty-user", false))

	got, err := s.Reaction(ctx, key)
	if err != nil || !sameReaction(got, replaced) {
		t.Fatalf("Reaction(alice) = %+v, %v; want %+v", got, err, replaced)
	}
	checkList(t, s, "talk", "", R("talk", "", "", "empty-user", false), replaced, R("talk", "", "bob", "❤️", true))
	checkList(t, s, "talk", "c1", R("talk", "c1", "alice", "😮", false))
	checkList(t, s, "tal", "k", R("tal", "k", "y", "b", false))
	checkList(t, s, "tal", "")
	checkList(t, s, "talk", "c")
	checkList(t, s, "talk", "c1x")

	n := 0
	if err := s.ReactionsOf(ctx, "", "talk", "", func(store.ResourceReaction) bool { n++; return false }); err != nil || n != 1 {
		t.Fatalf("ReactionsOf did not stop when fn returned false: %d calls, %v", n, err)
	}

	old, err := s.DeleteReaction(ctx, key)
	if err != nil || !sameReaction(old, replaced) {
		t.Fatalf("DeleteReaction = %+v, %v; want %+v", old, err, replaced)
	}
	if _, err := s.DeleteReaction(ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second DeleteReaction = %v, want ErrNotFound", err)
	}
	if _, err := s.Reaction(ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Reaction after delete = %v, want ErrNotFound", err)
	}
	// The comment's reaction of the same user is a different key.
	checkList(t, s, "talk", "c1", R("talk", "c1", "alice", "😮", false))
	checkList(t, s, "talk", "", R("talk", "", "", "empty-user", false), R("talk", "", "bob", "❤️", true))
}

// testReactionOrder checks that ReactionsOf lists users in byte order of
// their ids, whatever the insertion order.
func testReactionOrder(t *testing.T, s store.Store) {
	users := []string{"b", "a", "B", "A", "é", "z", "aa", "a b", "10", "9", "ö", "日本", "Z", "_", "~"}
	for i, u := range users {
		put(t, s, R("res", "", u, fmt.Sprint("r", i), i%2 == 0))
	}
	sorted := slices.Clone(users)
	slices.Sort(sorted) // Go compares strings bytewise
	got := List(t, s, "res", "")
	ids := make([]string, len(got))
	for i, r := range got {
		ids[i] = r.UserID
	}
	if !slices.Equal(ids, sorted) {
		t.Fatalf("ReactionsOf order = %q, want %q", ids, sorted)
	}
}

// testConcurrent runs writers at once: each puts, replaces and deletes its
// own keys on shared resources and puts one key all writers share. Every
// acknowledged write must be there afterwards.
func testConcurrent(t *testing.T, s store.Store, o Options) {
	resources := []string{"r0", "r1", "r2"}
	type final struct {
		mu   sync.Mutex
		want map[store.ReactionKey]store.ResourceReaction // every writer's own keys
		last map[string]bool                              // acknowledged values of the shared key
	}
	f := final{want: map[store.ReactionKey]store.ResourceReaction{}, last: map[string]bool{}}
	var wg sync.WaitGroup
	errs := make(chan error, o.Writers)
	for w := range o.Writers {
		wg.Go(func() {
			mine, err := writeConcurrently(s, w, o.WritesPerWriter, resources)
			if err != nil {
				errs <- err
				return
			}
			shared := store.ResourceReaction{ReactionKey: store.ReactionKey{Resource: "r0", Comment: "shared", UserID: "everyone"},
				Reaction: fmt.Sprint("w", w), Updated: At}
			if err := s.PutReaction(ctx, shared, 0); err != nil {
				errs <- fmt.Errorf("writer %d: put shared: %w", w, err)
				return
			}
			f.mu.Lock()
			maps.Copy(f.want, mine)
			f.last[shared.Reaction] = true
			f.mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	checkStored(t, s, resources, f.want)
	shared := List(t, s, "r0", "shared")
	if len(shared) != 1 || !f.last[shared[0].Reaction] {
		t.Fatalf("shared key = %+v, want one of the acknowledged values %v", shared, f.last)
	}
}

// writeConcurrently is writer w of testConcurrent: n puts, replaces and
// deletes of its own keys, checking each answer. It returns what it
// leaves stored.
func writeConcurrently(s store.Store, w, n int, resources []string) (map[store.ReactionKey]store.ResourceReaction, error) {
	mine := map[store.ReactionKey]store.ResourceReaction{}
	var keys []store.ReactionKey
	for i := range n {
		switch {
		case i%5 == 4 && len(keys) > 0: // delete an earlier key
			k := keys[i%len(keys)]
			old, err := s.DeleteReaction(ctx, k)
			want, had := mine[k]
			switch {
			case had && (err != nil || !sameReaction(old, want)):
				return nil, fmt.Errorf("writer %d: delete %v = %+v, %v; want %+v", w, k, old, err, want)
			case !had && !errors.Is(err, store.ErrNotFound):
				return nil, fmt.Errorf("writer %d: delete of a deleted %v = %v, want ErrNotFound", w, k, err)
			}
			delete(mine, k)
		case i%3 == 2 && len(keys) > 0: // replace an earlier key
			k := keys[(i*7)%len(keys)]
			r := store.ResourceReaction{ReactionKey: k, Reaction: fmt.Sprintf("re-%d-%d", w, i), Updated: At.Add(time.Duration(i) * time.Millisecond)}
			if err := s.PutReaction(ctx, r, 0); err != nil {
				return nil, fmt.Errorf("writer %d: replace: %w", w, err)
			}
			mine[k] = r
		default:
			k := store.ReactionKey{Resource: resources[i%len(resources)], UserID: fmt.Sprintf("w%02d-%03d", w, i)}
			r := store.ResourceReaction{ReactionKey: k, Reaction: fmt.Sprintf("r-%d-%d", w, i), Incognito: i%2 == 1, Updated: At}
			if err := s.PutReaction(ctx, r, 0); err != nil {
				return nil, fmt.Errorf("writer %d: put: %w", w, err)
			}
			mine[k] = r
			keys = append(keys, k)
		}
	}
	return mine, nil
}

// checkStored fails unless the store holds exactly want on resources.
func checkStored(t *testing.T, s store.Store, resources []string, want map[store.ReactionKey]store.ResourceReaction) {
	t.Helper()
	got := map[store.ReactionKey]store.ResourceReaction{}
	for _, res := range resources {
		for _, r := range List(t, s, res, "") {
			got[r.ReactionKey] = r
		}
	}
	if maps.EqualFunc(got, want, sameReaction) {
		return
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || !sameReaction(g, w) {
			t.Errorf("acknowledged %+v: stored %+v (present %v)", w, g, ok)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("stored %+v: deleted or never written", g)
		}
	}
	t.Fatalf("%d reactions stored, %d expected", len(got), len(want))
}

// testReopen writes everything, closes the store and checks it all after
// reopening; Close is idempotent and a closed store refuses operations.
func testReopen(t *testing.T, open Opener) {
	s := open(t)
	rooms := map[string][]byte{"r1": []byte(`{"id":"r1"}`), "r2": []byte(`{"id":"r2"}`)}
	if err := s.PutRooms(ctx, rooms); err != nil {
		t.Fatal(err)
	}
	inv := store.Invite{Code: "code42", Room: "r1", Expires: At}
	if err := s.PutInvite(ctx, inv); err != nil {
		t.Fatal(err)
	}
	put(t, s, R("talk", "", "alice", "👍", false))
	put(t, s, R("talk", "", "bob", "❤️", true))
	put(t, s, inWorld("expo", R("talk", "c", "carol", "😮", false)))
	if _, err := s.DeleteReaction(ctx, store.ReactionKey{Resource: "talk", UserID: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.PutReaction(ctx, R("talk", "", "late", "x", false), 0); err == nil {
		t.Fatal("PutReaction on a closed store succeeded")
	}

	s = open(t)
	defer s.Close()
	checkRooms(t, s, rooms)
	checkInvite(t, s, inv)
	checkRoomInvite(t, s, "r1", inv)
	checkList(t, s, "talk", "", R("talk", "", "bob", "❤️", true))
	checkListIn(t, s, "expo", inWorld("expo", R("talk", "c", "carol", "😮", false)))
	checkList(t, s, "talk", "c")
	checkWorld(t, s, "expo", 1)
	checkWorld(t, s, "", 1)
}
