package catalog

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomring/roomring/node/op"
)

// clock is a fake wall clock for catalogs.
type clock struct{ t time.Time }

func (k *clock) now() time.Time          { return k.t }
func (k *clock) advance(d time.Duration) { k.t = k.t.Add(d) }
func (k *clock) set(c *Catalog, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now, c.ttl = k.now, ttl
}

func ids(recs []Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func collect(t *testing.T, c *Catalog) int {
	t.Helper()
	n, err := c.CollectTombstones(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTombstonesAreCollectedAfterTheTTL(t *testing.T) {
	ctx := context.Background()
	const ttl = 24 * time.Hour
	dir := t.TempDir()
	k := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	c, _ := replicated(t, dir, "node-a")
	k.set(c, ttl)
	seed(t, c, &Room{ID: "a", Name: "A"}, &Room{ID: "b", Name: "B"}, &Room{ID: "keep", Name: "Keep"})
	deletedA := k.t
	if err := c.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	k.advance(10 * time.Hour)
	if err := c.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if got := c.Records("a")[0].At; !got.Equal(deletedA) {
		t.Fatalf("tombstone of a has time %v, want the deletion's %v", got, deletedA)
	}

	k.t = deletedA.Add(ttl - time.Second)
	if n := collect(t, c); n != 0 {
		t.Fatalf("collected %d tombstones before the TTL", n)
	}
	k.t = deletedA.Add(ttl)
	if n := collect(t, c); n != 1 {
		t.Fatalf("collected %d tombstones at a's TTL, want 1", n)
	}
	if got := ids(c.Records()); !slices.Equal(got, []string{"b", "keep"}) {
		t.Fatalf("records after collection = %v, want b's tombstone and keep", got)
	}

	// The store lost the tombstone too, and keeps the collection mark.
	if err := c.store.Close(); err != nil {
		t.Fatal(err)
	}
	c, _ = replicated(t, dir, "node-a")
	k.set(c, ttl)
	if got := ids(c.Records()); !slices.Equal(got, []string{"b", "keep"}) {
		t.Fatalf("records after reopening = %v", got)
	}
	if !c.collected.Equal(deletedA) {
		t.Fatalf("collection mark after reopening = %v, want %v", c.collected, deletedA)
	}

	// A peer's tombstone of a room this catalog does not know is dropped
	// once past the TTL (no ping-pong of collected tombstones), kept before.
	old := Record{ID: "gone", Version: Version{1, "node-z"}, Cause: CauseDelete, At: k.t.Add(-ttl)}
	recent := Record{ID: "recent", Version: Version{2, "node-z"}, Cause: CauseDelete, At: k.t.Add(-time.Hour)}
	if _, err := c.Apply(ctx, []Record{old, recent}); err != nil {
		t.Fatal(err)
	}
	if got := ids(c.Records()); !slices.Equal(got, []string{"b", "keep", "recent"}) {
		t.Fatalf("records after peer tombstones = %v, want the recent one only", got)
	}
	k.advance(10 * time.Hour)
	if n := collect(t, c); n != 1 || len(c.Records("b")) != 0 {
		t.Fatalf("collected %d at b's TTL, b's record %v", n, c.Records("b"))
	}
	if !c.collected.Equal(deletedA.Add(10 * time.Hour)) {
		t.Fatalf("collection mark = %v, want b's deletion", c.collected)
	}
}

// TestUntimedAndDeclaredTombstones: a tombstone of a room this node's
// --rooms file declares with the manifest it was deleted with is kept (it
// keeps the room deleted when the node restarts with the file); one
// without a time gets the collection's time and lives a TTL from then.
func TestUntimedAndDeclaredTombstones(t *testing.T) {
	ctx := context.Background()
	const ttl = time.Hour
	k := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	c, _ := replicated(t, t.TempDir(), "node-a")
	k.set(c, ttl)
	applyManifests(t, c, manifestsV1)
	for _, id := range []string{"stage", "lounge"} {
		if err := c.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	// A tombstone stored before tombstones had a time.
	if _, err := c.Apply(ctx, []Record{{ID: "old", Version: Version{100, "node-z"}, Cause: CauseDelete}}); err != nil {
		t.Fatal(err)
	}
	// The node restarts with a file that no longer declares lounge.
	docs := strings.Split(manifestsV1, "---\n")
	if got := applyManifests(t, c, docs[0]+"---\n"+docs[2]); len(got) != 0 {
		t.Fatalf("restart wrote %v", got)
	}

	k.advance(ttl)
	if n := collect(t, c); n != 1 {
		t.Fatalf("collected %d tombstones, want lounge's", n)
	}
	if got := ids(c.Records()); !slices.Equal(got, []string{"hall", "old", "stage"}) {
		t.Fatalf("records = %v, want hall, and the tombstones of old and stage", got)
	}
	if at := c.Records("old")[0].At; !at.Equal(k.t) {
		t.Fatalf("untimed tombstone got time %v, want the collection's %v", at, k.t)
	}
	k.advance(ttl)
	if n := collect(t, c); n != 1 || len(c.Records("old")) != 0 || len(c.Records("stage")) == 0 {
		t.Fatalf("collected %d; old %v, stage %v: want old collected, stage kept", n, c.Records("old"), c.Records("stage"))
	}
	// The declared tombstone keeps stage deleted when the file is applied
	// again; it is collected once the file stops declaring it so.
	if got := applyManifests(t, c, docs[2]); len(got) != 0 || c.Exists("stage") {
		t.Fatalf("the file without stage wrote %v", got)
	}
	if n := collect(t, c); n != 1 || len(c.Records("stage")) != 0 {
		t.Fatalf("collected %d, stage %v: want stage collected", n, c.Records("stage"))
	}
}

// TestReturningNodeCannotResurrectCollectedRoom: a node that was away
// longer than the TTL comes back with a live copy of a room deleted (and
// its tombstone collected) meanwhile. The copy is not applied; the
// catalog deletes the room again with a fresh tombstone that, replicated,
// deletes the copy on the returning node. A room created after the newest
// collected deletion is applied as usual.
func TestReturningNodeCannotResurrectCollectedRoom(t *testing.T) {
	ctx := context.Background()
	const ttl = 24 * time.Hour
	dirA := t.TempDir()
	k := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	a, wa := replicated(t, dirA, "node-a")
	b, wb := replicated(t, t.TempDir(), "node-b")
	k.set(a, ttl)
	k.set(b, ttl)
	room, err := a.Create(ctx, CreateRequest{Name: "Doomed"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Apply(ctx, wa.take()); err != nil {
		t.Fatal(err)
	}
	stale := b.Records(room.ID)[0]

	// node-b goes away; the room is deleted, and its tombstone collected.
	k.advance(time.Hour)
	if err := a.Delete(ctx, room.ID); err != nil {
		t.Fatal(err)
	}
	wa.take()
	k.advance(ttl)
	if n := collect(t, a); n != 1 {
		t.Fatalf("collected %d", n)
	}
	// node-b comes back (on a restarted node-a: the mark is durable), with
	// a room it created since the deletion.
	if err := a.store.Close(); err != nil {
		t.Fatal(err)
	}
	a, wa = replicated(t, dirA, "node-a")
	k.set(a, ttl)
	fresh, err := b.Create(ctx, CreateRequest{Name: "Fresh"})
	if err != nil {
		t.Fatal(err)
	}
	wb.take()
	ch, err := a.Apply(ctx, b.Records())
	if err != nil {
		t.Fatal(err)
	}
	if len(ch) != 1 || ch[0].ID != fresh.ID || a.Exists(room.ID) {
		t.Fatalf("changes %+v, stale room exists %v: want the fresh room only", ch, a.Exists(room.ID))
	}
	again := wa.take()
	if len(again) != 1 || again[0].ID != room.ID || again[0].Room != nil || !stale.Version.Less(again[0].Version) ||
		again[0].Version.Node != "node-a" || !again[0].At.Equal(k.t) {
		t.Fatalf("handed on %+v, want a new tombstone of %s newer than %+v", again, room.ID, stale.Version)
	}
	ch, err = b.Apply(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch) != 1 || ch[0].Before == nil || ch[0].After != nil || b.Exists(room.ID) {
		t.Fatalf("returning node: changes %+v, room exists %v", ch, b.Exists(room.ID))
	}
	// Converged: both hold the new tombstone and the fresh room.
	if _, err := a.Apply(ctx, b.Records()); err != nil {
		t.Fatal(err)
	}
	if ra, rb := a.Records(), b.Records(); !slices.EqualFunc(ra, rb, sameRecord) {
		t.Fatalf("catalogs differ:\n a=%+v\n b=%+v", ra, rb)
	}
}

func TestGCConfig(t *testing.T) {
	d := DefaultConfig()
	if err := d.Validate(); err != nil || d.TombstoneTTL < 72*time.Hour || d.GCInterval <= 0 || d.GCInterval > d.TombstoneTTL {
		t.Fatalf("defaults %+v: %v", d, err)
	}
	for _, bad := range []Config{{TombstoneTTL: -1, GCInterval: time.Hour}, {TombstoneTTL: time.Hour}} {
		if bad.Validate() == nil {
			t.Errorf("%+v validated", bad)
		}
	}
	if err := (&Config{GCInterval: time.Minute}).Validate(); err != nil {
		t.Errorf("TTL 0 (keep forever): %v", err)
	}
}

func TestReservedIDs(t *testing.T) {
	c, _ := replicated(t, t.TempDir(), "node-a")
	if err := c.Upsert(context.Background(), &Room{ID: gcKey, Name: "x"}); codeOf(err) != op.CodeConfigInvalid {
		t.Fatalf("room with the reserved id %s: %v", gcKey, err)
	}
	if _, err := c.Apply(context.Background(), []Record{{ID: gcKey, Room: &Room{ID: gcKey, Name: "x"}, Version: Version{1, "z"}}}); err != nil || len(c.Records()) != 0 {
		t.Fatalf("peer record with the reserved id: %v, records %v", err, c.Records())
	}
}
