package catalog

import (
	"context"
	"encoding/json"
	"testing"
)

// TestListInSharedCopyOnWrite: the rooms ListInShared hands out are never
// modified by the catalog's writes — a patch, a schedule, a reorder, an
// upsert, a deletion — while a later list sees every write.
func TestListInSharedCopyOnWrite(t *testing.T) {
	ctx := context.Background()
	c := openCatalog(t, t.TempDir())
	s := Scope{Builtin: true}
	seed(t, c, &Room{ID: "a", Name: "A", SortingPriority: 1}, &Room{ID: "b", Name: "B", SortingPriority: 2},
		&Room{ID: "c", Name: "C", SortingPriority: 3})
	held := c.ListInShared(s)
	before := make([]string, len(held))
	for i, r := range held {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		before[i] = string(b)
	}
	if _, err := c.Patch(ctx, "a", map[string]json.RawMessage{"name": json.RawMessage(`"A2"`),
		"module_config": json.RawMessage(`[{"type": "livestream.native"}]`)}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetSchedule(ctx, "b", map[string]any{"title": "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reorder(ctx, s, []string{"c", "b", "a"}); err != nil {
		t.Fatal(err)
	}
	seed(t, c, &Room{ID: "c", Name: "C3", SortingPriority: 1})
	if err := c.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	for i, r := range held {
		if b, _ := json.Marshal(r); string(b) != before[i] {
			t.Errorf("room %s changed under a reader:\n got %s\nwant %s", r.ID, b, before[i])
		}
	}
	now := c.ListInShared(s)
	if got := order(now); len(got) != 2 || got[0] != "c" || got[1] != "a" {
		t.Fatalf("after the writes: %v, want [c a]", got)
	}
	if now[0].Name != "C3" || now[1].Name != "A2" || len(now[1].ModuleConfig) != 1 {
		t.Errorf("a later list misses the writes: %+v, %+v", now[0], now[1])
	}
}
