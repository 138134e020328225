package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/store/bolt"
)

func openCatalog(t *testing.T, dir string) *Catalog {
	t.Helper()
	st, err := bolt.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	c, err := Open(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func seed(t *testing.T, c *Catalog, rooms ...*Room) {
	t.Helper()
	if err := c.Upsert(context.Background(), rooms...); err != nil {
		t.Fatal(err)
	}
}

func order(rs []*Room) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func codeOf(err error) op.Code {
	var oe *op.Error
	if errors.As(err, &oe) {
		return oe.Code
	}
	return ""
}

func TestListOrder(t *testing.T) {
	c := openCatalog(t, t.TempDir())
	seed(t, c, &Room{ID: "z", Name: "Zed", SortingPriority: 1}, &Room{ID: "b", Name: "Bee", SortingPriority: 2},
		&Room{ID: "a", Name: "Bee", SortingPriority: 2}, &Room{ID: "c", Name: "Alpha", SortingPriority: 2})
	// priority, then name, then id
	if got, want := order(c.List()), []string{"z", "c", "a", "b"}; !slices.Equal(got, want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
}

func TestReorder(t *testing.T) {
	dir := t.TempDir()
	c := openCatalog(t, dir)
	seed(t, c, &Room{ID: "a", Name: "A", SortingPriority: 1}, &Room{ID: "b", Name: "B", SortingPriority: 2},
		&Room{ID: "c", Name: "C", SortingPriority: 3}, &Room{ID: "d", Name: "D", SortingPriority: 7})
	ctx := context.Background()
	cases := []struct {
		ids  []string
		want []string
	}{
		// listed first in list order, the rest after in their previous order
		{[]string{"c", "unknown", "a"}, []string{"c", "a", "b", "d"}},
		{[]string{"b", "b", "d"}, []string{"b", "d", "c", "a"}},
		{nil, []string{"b", "d", "c", "a"}},
		{[]string{"a", "b", "c", "d"}, []string{"a", "b", "c", "d"}},
	}
	for _, tc := range cases {
		got, err := c.Reorder(ctx, Scope{Builtin: true}, tc.ids)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(order(got), tc.want) {
			t.Fatalf("Reorder(%v) = %v, want %v", tc.ids, order(got), tc.want)
		}
		for i, r := range got {
			if r.SortingPriority != i+1 {
				t.Fatalf("Reorder(%v): %s has priority %d, want %d", tc.ids, r.ID, r.SortingPriority, i+1)
			}
		}
	}
	// Durable: a catalog reopened on the store has the same order.
	c.store.Close()
	if got := order(openCatalog(t, dir).List()); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("after reopen: %v", got)
	}
}

func TestCreate(t *testing.T) {
	c := openCatalog(t, t.TempDir())
	seed(t, c, &Room{ID: "a", Name: "Main Stage", SortingPriority: 4})
	ctx := context.Background()
	r, err := c.Create(ctx, CreateRequest{Name: "Hall"})
	if err != nil {
		t.Fatal(err)
	}
	if r.SortingPriority != 5 || !r.ShowViewers || !r.AnonymousInvites || len(r.AllowedReactions) != 5 || len(r.ID) != 36 {
		t.Fatalf("created %+v", r)
	}
	if _, err := c.Create(ctx, CreateRequest{Name: "main STAGE"}); codeOf(err) != op.CodeNameTaken {
		t.Fatalf("taken name: %v", err)
	}
	if _, err := c.Create(ctx, CreateRequest{Name: "x", Modules: []map[string]any{{"type": ""}}}); codeOf(err) != op.CodeConfigInvalid {
		t.Fatalf("bad module: %v", err)
	}
}

func raw(t *testing.T, m map[string]any) map[string]json.RawMessage {
	t.Helper()
	out := map[string]json.RawMessage{}
	for k, v := range m {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = b
	}
	return out
}

func TestApplyPatch(t *testing.T) {
	base := &Room{ID: "r", Name: "Room", Description: "d", SortingPriority: 3, ShowViewers: true,
		ScheduleData: map[string]any{"title": "T"}}
	base.Normalize()

	ok := []struct {
		name  string
		patch map[string]any
		check func(*Room) bool
	}{
		{"name", map[string]any{"name": "New"}, func(r *Room) bool { return r.Name == "New" && r.Description == "d" }},
		{"ignored keys", map[string]any{"room": "x", "id": "other", "nonsense": 1}, func(r *Room) bool { return r.ID == "r" && r.Name == "Room" }},
		{"reactions", map[string]any{"allowed_reactions": []string{"👍"}}, func(r *Room) bool { return slices.Equal(r.AllowedReactions, []string{"👍"}) }},
		{"empty reactions mean all", map[string]any{"allowed_reactions": []string{}}, func(r *Room) bool { return len(r.AllowedReactions) == 5 }},
		{"flags", map[string]any{"show_viewers": false, "anonymous_invites": true, "force_join": true},
			func(r *Room) bool { return !r.ShowViewers && r.AnonymousInvites && r.ForceJoin }},
		{"modules replace", map[string]any{"module_config": []map[string]any{{"type": "chat.native", "config": map[string]any{}}}},
			func(r *Room) bool { return len(r.ModuleConfig) == 1 && r.ModuleConfig[0]["type"] == "chat.native" }},
		{"grants string and list rules", map[string]any{"trait_grants": map[string]any{"moderator": []any{"a", []string{"b", "c"}}}},
			func(r *Room) bool {
				g := r.TraitGrants["moderator"]
				return len(g) == 2 && slices.Equal(g[0], []string{"a"}) && slices.Equal(g[1], []string{"b", "c"})
			}},
		{"schedule replace", map[string]any{"schedule_data": map[string]any{"session": 2}},
			func(r *Room) bool { return r.ScheduleData["session"] == float64(2) && r.ScheduleData["title"] == nil }},
		{"picture null", map[string]any{"picture": nil}, func(r *Room) bool { return r.Picture == nil }},
	}
	for _, tc := range ok {
		n, err := ApplyPatch(base, raw(t, tc.patch))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !tc.check(n) {
			t.Errorf("%s: patched room %+v", tc.name, n)
		}
	}
	if base.Name != "Room" || base.ScheduleData["title"] != "T" {
		t.Fatalf("ApplyPatch modified its input: %+v", base)
	}

	bad := []map[string]any{
		{"name": 5}, {"name": ""}, {"name": strings.Repeat("n", MaxNameLen+1)},
		{"description": strings.Repeat("d", MaxDescriptionLen+1)}, {"sorting_priority": "1"},
		{"sorting_priority": 1.5}, {"allowed_reactions": []string{"🐸"}}, {"allowed_reactions": "👏"},
		{"module_config": []map[string]any{{"config": 1}}}, {"module_config": map[string]any{}},
		{"trait_grants": map[string]any{"moderator": 1}}, {"trait_grants": []string{"x"}},
		{"schedule_data": map[string]any{"speaker": "x"}}, {"schedule_data": "x"},
		{"show_viewers": "false"}, {"pretalx_id": "7"},
	}
	for _, p := range bad {
		if _, err := ApplyPatch(base, raw(t, p)); err == nil || err.Code != op.CodeConfigInvalid {
			t.Errorf("patch %v: %v, want config.invalid", p, err)
		}
	}
}

func TestPatchNameTaken(t *testing.T) {
	c := openCatalog(t, t.TempDir())
	seed(t, c, &Room{ID: "a", Name: "Alpha"}, &Room{ID: "b", Name: "Beta"})
	ctx := context.Background()
	if _, err := c.Patch(ctx, "b", raw(t, map[string]any{"name": "ALPHA"})); codeOf(err) != op.CodeNameTaken {
		t.Fatalf("rename to a taken name: %v", err)
	}
	if _, err := c.Patch(ctx, "b", raw(t, map[string]any{"name": "BETA"})); err != nil {
		t.Fatalf("rename to own name in another case: %v", err)
	}
	if _, err := c.Patch(ctx, "x", raw(t, map[string]any{"name": "x"})); codeOf(err) != op.CodeRoomUnknown {
		t.Fatalf("patch of an unknown room: %v", err)
	}
}

func TestSchedule(t *testing.T) {
	c := openCatalog(t, t.TempDir())
	seed(t, c, &Room{ID: "a", Name: "Alpha"})
	ctx := context.Background()
	if err := c.SetSchedule(ctx, "a", map[string]any{"title": "x", "foo": 1}); codeOf(err) != op.CodeUnknownSchedule {
		t.Fatalf("unknown key: %v", err)
	}
	if err := c.SetSchedule(ctx, "a", map[string]any{"title": "x", "session": "s1"}); err != nil {
		t.Fatal(err)
	}
	if got := c.Get("a").ScheduleData; got["title"] != "x" || got["session"] != "s1" {
		t.Fatalf("schedule = %v", got)
	}
}

func TestInvites(t *testing.T) {
	c := openCatalog(t, t.TempDir())
	seed(t, c, &Room{ID: "a", Name: "Alpha"}, &Room{ID: "b", Name: "Beta"})
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }

	code, err := c.InviteCode(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != inviteCodeLen || strings.Trim(code, inviteAlphabet) != "" {
		t.Fatalf("code %q is not %d characters of the alphabet", code, inviteCodeLen)
	}
	if again, _ := c.InviteCode(ctx, "a"); again != code {
		t.Fatalf("repeat gave %s, want %s", again, code)
	}
	if room, err := c.Redeem(ctx, code); err != nil || room != "a" {
		t.Fatalf("Redeem = %q, %v", room, err)
	}
	// Within the reuse margin of its expiry a link is replaced; the old one
	// stays valid until it expires.
	now = now.Add(InviteTTL - InviteReuseMargin + time.Hour)
	fresh, _ := c.InviteCode(ctx, "a")
	if fresh == code {
		t.Fatal("a link close to expiry was reused")
	}
	if room, err := c.Redeem(ctx, code); err != nil || room != "a" {
		t.Fatalf("old link before expiry: %q, %v", room, err)
	}
	now = now.Add(InviteReuseMargin)
	if _, err := c.Redeem(ctx, code); codeOf(err) != op.CodeAuthDenied {
		t.Fatalf("expired link: %v", err)
	}
	if _, err := c.Redeem(ctx, "nope12"); codeOf(err) != op.CodeAuthDenied {
		t.Fatalf("unknown link: %v", err)
	}
	if err := c.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Redeem(ctx, fresh); codeOf(err) != op.CodeAuthDenied {
		t.Fatalf("link of a deleted room: %v", err)
	}
	if err := c.Delete(ctx, "a"); codeOf(err) != op.CodeRoomUnknown {
		t.Fatalf("second delete: %v", err)
	}
}
