package catalog

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/roomring/roomring/node/op"
)

func isCode(err error, code op.Code) bool {
	var oe *op.Error
	return errors.As(err, &oe) && oe.Code == code
}

func testWorld(id, title string) *World {
	return &World{ID: id, Title: title, Secrets: [][]byte{bytes.Repeat([]byte("s"), 32)}}
}

// TestWorldRecordsReplicate: a world put on one catalog reaches another
// through the same records as rooms, survives a reopen, and its deletion
// replicates as a tombstone that an older copy cannot undo and the
// collector removes after the TTL.
func TestWorldRecordsReplicate(t *testing.T) {
	ctx := context.Background()
	a, wa := replicated(t, t.TempDir(), "node-a")
	b, _ := replicated(t, t.TempDir(), "node-b")

	ch, err := a.PutWorld(ctx, testWorld("expo", "Expo"))
	if err != nil || ch.WorldBefore != nil || ch.WorldAfter == nil || !ch.IsWorld() {
		t.Fatalf("PutWorld = %+v, %v; want a creation", ch, err)
	}
	if ch, _ = a.PutWorld(ctx, testWorld("expo", "Expo")); !ch.WorldBefore.Equal(ch.WorldAfter) {
		t.Fatalf("the same world again = %+v, want unchanged", ch)
	}
	created := wa.take()
	if len(created) != 1 || created[0].ID != worldKey("expo") || created[0].World == nil {
		t.Fatalf("handed on %+v, want one world record", created)
	}
	changes, err := b.Apply(ctx, created)
	if err != nil || len(changes) != 1 || changes[0].ID != "expo" || changes[0].WorldAfter.Title != "Expo" {
		t.Fatalf("Apply = %+v, %v", changes, err)
	}
	if w := b.World("expo"); w == nil || w.Title != "Expo" || b.Exists(worldKey("expo")) {
		t.Fatalf("b's world = %+v; a world is not a room", w)
	}
	// Rooms of the world are scoped to it.
	seed(t, a, &Room{ID: "hall", World: "expo", Name: "Hall"}, &Room{ID: "lobby", Name: "Lobby"})
	if n := a.CountIn(Scope{World: "expo"}); n != 1 {
		t.Fatalf("expo has %d rooms, want 1", n)
	}
	if rs := a.ListIn(Scope{World: "default", Builtin: true}); len(rs) != 1 || rs[0].ID != "lobby" {
		t.Fatalf("the built-in world lists %v, want lobby", rs)
	}

	// A reopened catalog has the world.
	if again, err := Open(ctx, a.store); err != nil || again.World("expo") == nil {
		t.Fatalf("reopened: %v, world lost", err)
	}

	// Deletion: a tombstone, applied elsewhere; the old record cannot
	// bring the world back.
	if ch, err = a.DeleteWorld(ctx, "expo"); err != nil || ch.WorldBefore == nil || ch.WorldAfter != nil {
		t.Fatalf("DeleteWorld = %+v, %v", ch, err)
	}
	if _, err = a.DeleteWorld(ctx, "expo"); !isCode(err, op.CodeWorldUnknown) {
		t.Fatalf("deleting it again: %v, want world.unknown", err)
	}
	wa.take()
	tomb := a.Records(worldKey("expo"))
	if _, err := b.Apply(ctx, tomb); err != nil || b.World("expo") != nil {
		t.Fatalf("tombstone applied: %v, world %+v", err, b.World("expo"))
	}
	if changes, _ := b.Apply(ctx, created); len(changes) != 0 || b.World("expo") != nil {
		t.Fatalf("an older copy brought the world back: %+v", changes)
	}

	// The collector removes the world's tombstone after the TTL.
	k := &clock{t: time.Now().Add(time.Hour)}
	k.set(b, time.Minute)
	if n := collect(t, b); n != 1 || len(b.Records(worldKey("expo"))) != 0 {
		t.Fatalf("collected %d, records %v", n, b.Records(worldKey("expo")))
	}
}

func TestWorldValidate(t *testing.T) {
	for name, w := range map[string]*World{
		"bad id":         {ID: "Expo!", Title: "x", Secrets: [][]byte{bytes.Repeat([]byte("s"), 32)}},
		"no secrets":     {ID: "expo", Title: "x"},
		"short secret":   {ID: "expo", Title: "x", Secrets: [][]byte{[]byte("s")}},
		"blank title":    {ID: "expo", Title: " ", Secrets: [][]byte{bytes.Repeat([]byte("s"), 32)}},
		"bad reaction":   {ID: "expo", Title: "x", Secrets: [][]byte{bytes.Repeat([]byte("s"), 32)}, Reactions: []string{"🦆"}},
		"bad public":     {ID: "expo", Title: "x", Secrets: [][]byte{bytes.Repeat([]byte("s"), 32)}, PublicURL: "ftp://x"},
		"unknown perm":   {ID: "expo", Title: "x", Secrets: [][]byte{bytes.Repeat([]byte("s"), 32)}, Roles: map[string][]string{"r": {"room:fly"}}},
		"negative quota": {ID: "expo", Title: "x", Secrets: [][]byte{bytes.Repeat([]byte("s"), 32)}, Quotas: WorldQuotas{Connections: -1}},
	} {
		if err := w.Validate(); err == nil || err.Code != op.CodeConfigInvalid {
			t.Errorf("%s: %v, want config.invalid", name, err)
		}
	}
	if err := testWorld("expo", "Expo").Validate(); err != nil {
		t.Fatal(err)
	}
}
