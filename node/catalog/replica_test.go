package catalog

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
)

// writes records what a replicated catalog hands its hook.
type writes struct {
	mu   sync.Mutex
	recs []Record
}

func (w *writes) hook(recs []Record) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.recs = append(w.recs, recs...)
}

func (w *writes) take() []Record {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.recs
	w.recs = nil
	return out
}

func replicated(t *testing.T, dir, node string) (*Catalog, *writes) {
	t.Helper()
	c := openCatalog(t, dir)
	w := &writes{}
	c.Replicate(node, w.hook)
	return c, w
}

func causes(recs []Record) []Cause {
	out := make([]Cause, len(recs))
	for i, r := range recs {
		out[i] = r.Cause
	}
	return out
}

func TestLocalWritesAreVersionedAndHandedOn(t *testing.T) {
	ctx := context.Background()
	c, w := replicated(t, t.TempDir(), "node-a")
	seed(t, c, &Room{ID: "r1", Name: "One"}, &Room{ID: "r2", Name: "Two"})
	r, err := c.Create(ctx, CreateRequest{Name: "Three"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Patch(ctx, "r1", map[string]json.RawMessage{"description": json.RawMessage(`"hello"`)}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetSchedule(ctx, "r1", map[string]any{"title": "Talk"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "r2"); err != nil {
		t.Fatal(err)
	}
	recs := w.take()
	want := []Cause{CauseManifest, CauseManifest, CauseCreate, CauseUpdate, CauseSchedule, CauseDelete}
	if got := causes(recs); !slices.Equal(got, want) {
		t.Fatalf("causes = %v, want %v", got, want)
	}
	for i, rec := range recs {
		if rec.Version.Node != "node-a" || rec.Version.Clock != uint64(i+1) {
			t.Fatalf("record %d version = %+v, want clock %d of node-a", i, rec.Version, i+1)
		}
	}
	if recs[2].ID != r.ID || recs[5].ID != "r2" || recs[5].Room != nil {
		t.Fatalf("create/delete records wrong: %+v / %+v", recs[2], recs[5])
	}
	if recs[4].Room.ScheduleData["title"] != "Talk" {
		t.Fatalf("schedule record carries %v", recs[4].Room.ScheduleData)
	}

	// Writing what is already there versions nothing.
	seed(t, c, c.Get("r1"))
	if _, err := c.Patch(ctx, "r1", map[string]json.RawMessage{}); err != nil {
		t.Fatal(err)
	}
	if recs := w.take(); len(recs) != 0 {
		t.Fatalf("unchanged writes were versioned: %+v", recs)
	}
	// Reorder versions only the rooms whose priority moved.
	if _, err := c.Reorder(ctx, Scope{Builtin: true}, []string{r.ID}); err != nil {
		t.Fatal(err)
	}
	for _, rec := range w.take() {
		if rec.Cause != CauseUpdate {
			t.Fatalf("reorder record %+v", rec)
		}
	}
}

func TestApplyLastWriterWins(t *testing.T) {
	ctx := context.Background()
	c, w := replicated(t, t.TempDir(), "node-b")
	seed(t, c, &Room{ID: "r", Name: "Local"}) // version 1 of node-b
	w.take()

	older := Record{ID: "r", Room: &Room{ID: "r", Name: "Older"}, Version: Version{1, "node-a"}, Cause: CauseUpdate}
	newer := Record{ID: "r", Room: &Room{ID: "r", Name: "Newer"}, Version: Version{5, "node-a"}, Cause: CauseUpdate}
	created := Record{ID: "n", Room: &Room{ID: "n", Name: "New"}, Version: Version{2, "node-a"}, Cause: CauseCreate}
	ch, err := c.Apply(ctx, []Record{older, newer, created})
	if err != nil {
		t.Fatal(err)
	}
	if len(ch) != 2 || ch[0].ID != "r" || ch[0].Before.Name != "Local" || ch[0].After.Name != "Newer" ||
		ch[1].ID != "n" || ch[1].Before != nil || ch[1].Cause != CauseCreate {
		t.Fatalf("changes = %+v", ch)
	}
	if got := c.Get("r").Name; got != "Newer" {
		t.Fatalf("room r = %q", got)
	}
	if recs := w.take(); len(recs) != 0 {
		t.Fatalf("applied records were handed on as local writes: %+v", recs)
	}
	// The clock moved past what was seen: the next local write is newer.
	if _, err := c.Patch(ctx, "r", map[string]json.RawMessage{"name": json.RawMessage(`"Mine"`)}); err != nil {
		t.Fatal(err)
	}
	if v := w.take()[0].Version; !newer.Version.Less(v) {
		t.Fatalf("local write after applying %+v got %+v", newer.Version, v)
	}

	// A tombstone deletes; an older copy cannot bring the room back.
	tomb := Record{ID: "n", Version: Version{9, "node-a"}, Cause: CauseDelete}
	ch, err = c.Apply(ctx, []Record{tomb, created})
	if err != nil {
		t.Fatal(err)
	}
	if len(ch) != 1 || ch[0].Before == nil || ch[0].After != nil || c.Exists("n") {
		t.Fatalf("tombstone: changes %+v, exists %v", ch, c.Exists("n"))
	}
	// Equal versions are the same write: nothing changes.
	if ch, _ := c.Apply(ctx, []Record{tomb}); len(ch) != 0 {
		t.Fatalf("re-applied tombstone changed %+v", ch)
	}
	// A newer write resurrects it (a room re-created by a manifest).
	if ch, _ := c.Apply(ctx, []Record{{ID: "n", Room: &Room{ID: "n", Name: "Again"}, Version: Version{10, "node-a"}, Cause: CauseManifest}}); len(ch) != 1 || !c.Exists("n") {
		t.Fatalf("newer record after tombstone: %+v", ch)
	}
}

func TestVersionsAndTombstonesSurviveRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, _ := replicated(t, dir, "node-a")
	seed(t, c, &Room{ID: "keep", Name: "Keep"}, &Room{ID: "gone", Name: "Gone"})
	if err := c.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	before := c.Records()
	if err := c.store.Close(); err != nil {
		t.Fatal(err)
	}

	c2, w := replicated(t, dir, "node-a")
	if got := c2.Records(); !slices.EqualFunc(got, before, func(a, b Record) bool {
		return a.ID == b.ID && a.Version == b.Version && a.Cause == b.Cause && a.Room.Equal(b.Room)
	}) {
		t.Fatalf("records after restart = %+v, want %+v", got, before)
	}
	if c2.Exists("gone") || c2.Len() != 1 {
		t.Fatal("tombstone lost: deleted room is back")
	}
	if c2.Newer("gone", Version{3, "node-a"}) || !c2.Newer("gone", Version{4, "node-a"}) {
		t.Fatal("tombstone version lost")
	}
	// An old (stale) copy of the deleted room is refused after the restart.
	if ch, _ := c2.Apply(ctx, []Record{{ID: "gone", Room: &Room{ID: "gone", Name: "Gone"}, Version: Version{2, "node-z"}}}); len(ch) != 0 {
		t.Fatalf("stale copy resurrected the room: %+v", ch)
	}
	seed(t, c2, &Room{ID: "keep", Name: "Kept"})
	if v := w.take()[0].Version; v.Clock != 4 {
		t.Fatalf("first write after restart has clock %d, want 4", v.Clock)
	}
}

func TestTwoCatalogsConverge(t *testing.T) {
	ctx := context.Background()
	a, _ := replicated(t, t.TempDir(), "node-a")
	b, _ := replicated(t, t.TempDir(), "node-b")
	seed(t, a, &Room{ID: "x", Name: "X from a"}, &Room{ID: "y", Name: "Y"})
	seed(t, b, &Room{ID: "x", Name: "X from b"}, &Room{ID: "z", Name: "Z"})
	if err := b.Delete(ctx, "z"); err != nil {
		t.Fatal(err)
	}
	// Full-state exchange in both directions, in either order.
	if _, err := a.Apply(ctx, b.Records()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Apply(ctx, a.Records()); err != nil {
		t.Fatal(err)
	}
	ra, rb := a.Records(), b.Records()
	if len(ra) != 3 || !slices.EqualFunc(ra, rb, func(p, q Record) bool {
		return p.ID == q.ID && p.Version == q.Version && p.Room.Equal(q.Room)
	}) {
		t.Fatalf("catalogs differ:\n a=%+v\n b=%+v", ra, rb)
	}
	// Equal clocks: the tie goes to the greater node name.
	if got := a.Get("x").Name; got != "X from b" {
		t.Fatalf("x = %q, want b's write", got)
	}
}
