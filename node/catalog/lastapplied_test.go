package catalog

import (
	"context"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const manifestsV1 = `apiVersion: roomring.dev/v1alpha1
kind: Room
metadata:
  name: stage
spec:
  displayName: Stage
  sortingPriority: 1
  scheduleData:
    title: Opening
---
apiVersion: roomring.dev/v1alpha1
kind: Room
metadata:
  name: lounge
spec:
  displayName: Lounge
  sortingPriority: 2
---
apiVersion: roomring.dev/v1alpha1
kind: Room
metadata:
  name: hall
spec:
  displayName: Hall
  sortingPriority: 3
`

// parse reads the few fields these tests' manifests use. The real
// manifest parser (node/manifest) imports this package, so it cannot be
// used here; its own tests cover parsing and the manifest hash of what it
// parses.
func parse(t *testing.T, manifests string) []*Room {
	t.Helper()
	var rooms []*Room
	for _, doc := range strings.Split(manifests, "\n---\n") {
		var m struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec struct {
				DisplayName     string         `json:"displayName"`
				SortingPriority int            `json:"sortingPriority"`
				ScheduleData    map[string]any `json:"scheduleData"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatal(err)
		}
		r := &Room{ID: m.Metadata.Name, Name: m.Spec.DisplayName, SortingPriority: m.Spec.SortingPriority,
			ScheduleData: m.Spec.ScheduleData, ShowViewers: true, AnonymousInvites: true}
		r.Normalize()
		rooms = append(rooms, r)
	}
	return rooms
}

func applyManifests(t *testing.T, c *Catalog, yaml string) []string {
	t.Helper()
	applied, err := c.ApplyManifests(context.Background(), parse(t, yaml)...)
	if err != nil {
		t.Fatal(err)
	}
	return applied
}

// TestApplyManifestsKeepsLaterChanges: a --rooms file applied again (every
// start) writes only the rooms whose manifest is new or changed; the
// others keep what was done to them, their deletion included, across a
// restart of the catalog.
func TestApplyManifestsKeepsLaterChanges(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, w := replicated(t, dir, "node-a")
	if got := applyManifests(t, c, manifestsV1); !slices.Equal(got, []string{"stage", "lounge", "hall"}) {
		t.Fatalf("first application wrote %v", got)
	}
	for _, rec := range w.take() {
		if rec.Cause != CauseManifest || rec.Manifest == "" {
			t.Fatalf("manifest record %+v has no manifest hash", rec)
		}
	}
	// Changes over the websocket: a patch, a reorder, schedule data, a
	// deletion. Each record carries the room's manifest hash on.
	if _, err := c.Patch(ctx, "stage", raw(t, map[string]any{"name": "Main Stage"})); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reorder(ctx, Scope{Builtin: true}, []string{"hall"}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetSchedule(ctx, "hall", map[string]any{"title": "Later"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "lounge"); err != nil {
		t.Fatal(err)
	}
	written := w.take()
	for _, rec := range written {
		if rec.Manifest == "" {
			t.Fatalf("record %+v lost the manifest hash", rec)
		}
	}
	if tomb := written[len(written)-1]; tomb.ID != "lounge" || tomb.Room != nil {
		t.Fatalf("last record %+v, want lounge's tombstone", tomb)
	}
	before := c.Records()

	// The same file again, before and after a restart: nothing is written.
	for range 2 {
		if got := applyManifests(t, c, manifestsV1); len(got) != 0 {
			t.Fatalf("the same manifests wrote %v", got)
		}
		if recs := w.take(); len(recs) != 0 {
			t.Fatalf("the same manifests were versioned: %+v", recs)
		}
		if got := c.Records(); !slices.EqualFunc(got, before, sameRecord) {
			t.Fatalf("records = %+v, want %+v", got, before)
		}
		if err := c.store.Close(); err != nil {
			t.Fatal(err)
		}
		c, w = replicated(t, dir, "node-a")
	}
	if got := order(c.List()); !slices.Equal(got, []string{"hall", "stage"}) {
		t.Fatalf("rooms %v, want hall, stage (reordered, lounge deleted)", got)
	}

	// One room's manifest changes: that room alone is replaced; a deleted
	// room whose manifest changes comes back.
	v2 := strings.Replace(manifestsV1, "displayName: Stage", "displayName: Stage 2", 1)
	if got := applyManifests(t, c, v2); !slices.Equal(got, []string{"stage"}) {
		t.Fatalf("changed manifest wrote %v, want stage", got)
	}
	if r := c.Get("stage"); r.Name != "Stage 2" || r.SortingPriority != 1 {
		t.Fatalf("stage = %+v, want the new manifest", r)
	}
	if r := c.Get("hall"); r.SortingPriority != 1 || r.ScheduleData["title"] != "Later" {
		t.Fatalf("hall = %+v, want its reorder and schedule kept", r)
	}
	v3 := strings.Replace(v2, "displayName: Lounge", "displayName: Lounge 2", 1)
	if got := applyManifests(t, c, v3); !slices.Equal(got, []string{"lounge"}) || !c.Exists("lounge") {
		t.Fatalf("changed manifest of a deleted room wrote %v", got)
	}
}

// TestManifestHashReplicates: a peer's write of a room carries the
// manifest hash, so the peer's later patch does not make this node think
// its manifest is new.
func TestManifestHashReplicates(t *testing.T) {
	ctx := context.Background()
	a, wa := replicated(t, t.TempDir(), "node-a")
	b, wb := replicated(t, t.TempDir(), "node-b")
	applyManifests(t, a, manifestsV1)
	applyManifests(t, b, manifestsV1)
	if _, err := a.Patch(ctx, "stage", raw(t, map[string]any{"name": "Patched on a"})); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, "hall"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Apply(ctx, wa.take()); err != nil {
		t.Fatal(err)
	}
	wb.take()
	if got := applyManifests(t, b, manifestsV1); len(got) != 0 {
		t.Fatalf("b re-applied %v after a's changes", got)
	}
	if b.Get("stage").Name != "Patched on a" || b.Exists("hall") {
		t.Fatalf("b lost a's changes: stage %+v, hall exists %v", b.Get("stage"), b.Exists("hall"))
	}
	if recs := wb.take(); len(recs) != 0 {
		t.Fatalf("b wrote %+v", recs)
	}
}

// TestUpsertKeepsManifestHash: the operator's pushes (Upsert) are not a
// --rooms file; a room stored before hashes existed gets its hash once.
func TestUpsertKeepsManifestHash(t *testing.T) {
	c, w := replicated(t, t.TempDir(), "node-a")
	seed(t, c, parse(t, manifestsV1)...) // as stored before manifest hashes
	w.take()
	// Equal configuration, no hash yet: written once, for the hash alone.
	if got := applyManifests(t, c, manifestsV1); len(got) != 3 {
		t.Fatalf("rooms without a hash: wrote %v, want all", got)
	}
	recs := w.take()
	if len(recs) != 3 || recs[0].Manifest == "" {
		t.Fatalf("records %+v", recs)
	}
	seed(t, c, &Room{ID: "stage", Name: "Pushed"})
	if got := w.take(); len(got) != 1 || got[0].Manifest != recs[0].Manifest {
		t.Fatalf("upsert records %+v, want stage's hash %s kept", got, recs[0].Manifest)
	}
	if got := applyManifests(t, c, manifestsV1); len(got) != 0 || c.Get("stage").Name != "Pushed" {
		t.Fatalf("after an upsert the same manifests wrote %v", got)
	}
}

func sameRecord(a, b Record) bool {
	return a.ID == b.ID && a.Version == b.Version && a.Cause == b.Cause && a.Manifest == b.Manifest && a.Room.Equal(b.Room)
}
