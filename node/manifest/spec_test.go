package manifest

import (
	"math"
	"testing"

	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/catalog"
)

func TestToSpecRoundTrip(t *testing.T) {
	pic := "https://example.org/p.png"
	for _, r := range []*catalog.Room{
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
		r.Normalize()
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
	for _, r := range []*catalog.Room{
		{ID: "a", Name: "A", SortingPriority: math.MaxInt32 + 1},
		{ID: "b", Name: "B", PretalxID: -1},
	} {
		if _, err := ToSpec(r); err == nil || err.Code != "config.invalid" {
			t.Errorf("%s: %v, want config.invalid", r.ID, err)
		}
	}
}
