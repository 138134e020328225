package catalog

import (
	"context"
	"encoding/json"
	"testing"
)

// TestGenerationCountsRoomChanges: every way a room changes moves the
// generation; reading, and an invite code, do not.
func TestGenerationCountsRoomChanges(t *testing.T) {
	ctx := context.Background()
	c := openCatalog(t, t.TempDir())
	var created *Room
	var err error
	for _, step := range []struct {
		name  string
		moves bool
		do    func() error
	}{
		{"upsert", true, func() error { return c.Upsert(ctx, &Room{ID: "a", Name: "A"}, &Room{ID: "b", Name: "B"}) }},
		{"create", true, func() error { created, err = c.Create(ctx, CreateRequest{Name: "C"}); return err }},
		{"patch", true, func() error {
			_, err := c.Patch(ctx, "a", map[string]json.RawMessage{"name": json.RawMessage(`"A2"`)})
			return err
		}},
		{"schedule", true, func() error { return c.SetSchedule(ctx, "a", map[string]any{"title": "Talk"}) }},
		{"reorder", true, func() error { _, err := c.Reorder(ctx, Scope{Builtin: true}, []string{"b", "a"}); return err }},
		{"delete", true, func() error { return c.Delete(ctx, created.ID) }},
		{"manifest", true, func() error { _, err := c.ApplyManifests(ctx, &Room{ID: "m", Name: "M"}); return err }},
		{"replicated", true, func() error {
			r := c.Get("b")
			r.Name = "B2"
			recs := c.Records("b")
			recs[0].Room, recs[0].Version.Clock = r, recs[0].Version.Clock+100
			_, err := c.Apply(ctx, recs)
			return err
		}},
		{"read", false, func() error { c.List(); c.ListInShared(Scope{Builtin: true}); c.Get("a"); return nil }},
		{"invite code", false, func() error { _, err := c.InviteCode(ctx, "a"); return err }},
	} {
		before := c.Generation()
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if moved := c.Generation() != before; moved != step.moves {
			t.Errorf("%s: generation moved %v, want %v", step.name, moved, step.moves)
		}
	}
}
