package catalog

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
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

func sealer(t *testing.T, b byte) *Sealer {
	t.Helper()
	s, err := NewSealer(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestWorldSecretsSealed: in a cluster's catalog a world's secrets leave
// the catalog's memory sealed — in the records handed to replication, in
// Records and in the store — and open again on a node with the same key
// only.
func TestWorldSecretsSealed(t *testing.T) {
	ctx := context.Background()
	a, wa := replicated(t, t.TempDir(), "node-a")
	b, _ := replicated(t, t.TempDir(), "node-b")
	other, _ := replicated(t, t.TempDir(), "node-c")
	for c, k := range map[*Catalog]byte{a: 1, b: 1, other: 2} {
		if err := c.SetSealer(ctx, sealer(t, k)); err != nil {
			t.Fatal(err)
		}
	}
	w := testWorld("expo", "Expo")
	secret := w.Secrets[0]
	if _, err := a.PutWorld(ctx, w); err != nil {
		t.Fatal(err)
	}
	if got := a.World("expo"); !bytes.Equal(got.Secrets[0], secret) || got.Sealed != nil {
		t.Fatalf("the catalog's own copy = %+v, want the secret in clear", got)
	}
	recs := wa.take()
	for _, out := range [][]Record{recs, a.Records(worldKey("expo"))} {
		raw, _ := json.Marshal(out)
		if bytes.Contains(raw, secret) || bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString(secret))) || len(out[0].World.Sealed) != 1 {
			t.Fatalf("a record carries the secret in clear: %s", raw)
		}
	}
	stored, err := a.store.Rooms(ctx)
	if err != nil || bytes.Contains(stored[worldKey("expo")], []byte(base64.StdEncoding.EncodeToString(secret))) {
		t.Fatalf("stored world record (%v) has the secret in clear: %s", err, stored[worldKey("expo")])
	}
	if _, err := b.Apply(ctx, recs); err != nil || !bytes.Equal(b.World("expo").Secrets[0], secret) {
		t.Fatalf("same key: %v, world %+v", err, b.World("expo"))
	}
	if changes, err := other.Apply(ctx, recs); err != nil || len(changes) != 0 || other.World("expo") != nil {
		t.Fatalf("another key applied %+v, %v", changes, err)
	}
	// Reopened, the catalog opens its stored secrets once it has the key.
	again, err := Open(ctx, a.store)
	if err != nil {
		t.Fatal(err)
	}
	if err := again.SetSealer(ctx, sealer(t, 1)); err != nil || !bytes.Equal(again.World("expo").Secrets[0], secret) {
		t.Fatalf("reopened: %v, world %+v", err, again.World("expo"))
	}

	// A world put before the catalog had a sealer (a --rooms file's) is
	// stored again sealed, with its version.
	d := openCatalog(t, t.TempDir())
	if _, err := d.PutWorld(ctx, testWorld("fair", "Fair")); err != nil {
		t.Fatal(err)
	}
	v := d.Records(worldKey("fair"))[0].Version
	if err := d.SetSealer(ctx, sealer(t, 1)); err != nil {
		t.Fatal(err)
	}
	if stored, _ := d.store.Rooms(ctx); bytes.Contains(stored[worldKey("fair")], []byte(base64.StdEncoding.EncodeToString(secret))) {
		t.Fatalf("a world put before the sealer is still stored in clear: %s", stored[worldKey("fair")])
	}
	if got := d.Records(worldKey("fair"))[0]; got.Version != v || !bytes.Equal(d.World("fair").Secrets[0], secret) {
		t.Fatalf("resealed record %+v (version %v), want version %v and the world in clear", got, got.Version, v)
	}
}
