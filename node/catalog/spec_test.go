package catalog

import (
	"math"
	"strings"
	"testing"

	"github.com/roomring/roomring/node/auth"
)

func TestToSpecRoundTrip(t *testing.T) {
	pic := "https://example.org/p.png"
	for _, r := range []*Room{
		{ID: "plain", Name: "Plain"},
		{ID: "room_1", Name: "Main Stage", Description: "Keynotes", Picture: &pic, SortingPriority: -3, PretalxID: 42,
			ForceJoin: true, ShowViewers: false, AnonymousInvites: true,
			ModuleConfig: []map[string]any{
				{"type": "livestream.native", "config": map[string]any{"hls_url": "https://x/y.m3u8", "n": 2.0}},
				{"type": "chat.native", "config": map[string]any{}},
			},
			TraitGrants:      auth.Grants{"moderator": {{"speaker", "host"}, {"staff"}}, "viewer": {}},
			ScheduleData:     map[string]any{"title": "Opening", "session": "s-1"},
			AllowedReactions: []string{"👏", "😮"}},
	} {
		r.normalize()
		if err := r.Validate(); err != nil {
			t.Fatal(err)
		}
		s, err := ToSpec(r)
		if err != nil {
			t.Fatalf("%s: %v", r.ID, err)
		}
		back, ferr := FromSpec(r.ID, &s)
		if ferr != nil {
			t.Fatalf("%s: FromSpec: %v", r.ID, ferr)
		}
		if !back.Equal(r) {
			t.Fatalf("%s: round trip\n got %+v\nwant %+v", r.ID, back, r)
		}
	}
}

func TestToSpecOutOfRange(t *testing.T) {
	for _, r := range []*Room{
		{ID: "a", Name: "A", SortingPriority: math.MaxInt32 + 1},
		{ID: "b", Name: "B", PretalxID: -1},
	} {
		if _, err := ToSpec(r); err == nil || err.Code != "config.invalid" {
			t.Errorf("%s: %v, want config.invalid", r.ID, err)
		}
	}
}

func TestReordered(t *testing.T) {
	rooms := []*Room{{ID: "c", Name: "C", SortingPriority: 3}, {ID: "a", Name: "A", SortingPriority: 1}, {ID: "b", Name: "B", SortingPriority: 2}}
	got := Reordered(rooms, []string{"c", "nope", "c"})
	if o := strings.Join(order(got), ","); o != "c,a,b" {
		t.Fatalf("order %s, want c,a,b", o)
	}
	if rooms[0].ID != "c" || rooms[1].ID != "a" {
		t.Fatal("Reordered modified its argument")
	}
}
