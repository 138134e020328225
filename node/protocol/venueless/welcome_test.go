package venueless

import (
	"bytes"
	"testing"

	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/engine"
	"github.com/roomring/roomring/node/op"
)

// marshalledWelcome is the "authenticated" payload as it was marshalled
// whole before the world view was cached: the reference of
// TestWelcomeComposesMarshal.
type marshalledWelcome struct {
	UserConfig            userConfig     `json:"user.config"`
	WorldConfig           worldConfig    `json:"world.config"`
	ChatChannels          []any          `json:"chat.channels"`
	ChatReadPointers      map[string]any `json:"chat.read_pointers"`
	ChatNotificationCount map[string]any `json:"chat.notification_counts"`
	Exhibition            map[string]any `json:"exhibition"`
	Announcements         []any          `json:"announcements"`
}

// TestWelcomeComposesMarshal: the authenticated push composed around the
// encoded world view is byte for byte the whole payload marshalled at
// once, and world.updated is the same world.config.
func TestWelcomeComposesMarshal(t *testing.T) {
	pic := "https://example.org/<a&b>.png"
	profile, err := op.ParseProfile([]byte(`{"display_name":"Ann <3","n":1e3}`), 0)
	if err != nil {
		t.Fatal(err)
	}
	u := &auth.User{ID: "ann", Profile: profile}
	for _, w := range []engine.WorldView{
		{ID: "default", Title: "Ev\"ent", Permissions: []string{}},
		{ID: "w", Title: "T", Permissions: []string{"world:rooms.create"}, Rooms: []engine.VisibleRoom{
			{Room: &catalog.Room{ID: "r1", Name: "Main", Picture: &pic, ScheduleData: map[string]any{"title": "x"},
				ModuleConfig: []map[string]any{{"type": "chat.native"}}},
				Permissions: []string{"room:view"}, AllowedReactions: []string{"👏"}, Users: op.OccupancyFew},
			{Room: &catalog.Room{ID: "r2", Name: "Two"}, Permissions: []string{}, AllowedReactions: []string{"👍"}, Users: op.OccupancyNone},
		}},
	} {
		want := Push("authenticated", marshalledWelcome{
			UserConfig:  userConfig{ID: u.ID, Profile: u.Profile, Badges: []string{}, ClientState: map[string]any{}},
			WorldConfig: newWorldConfig(w), ChatChannels: []any{}, ChatReadPointers: map[string]any{},
			ChatNotificationCount: map[string]any{}, Exhibition: map[string]any{}, Announcements: []any{}})
		updated := EncodeWorldUpdated(w)
		if got := welcome(u, updated); !bytes.Equal(got, want) {
			t.Errorf("composed:\n%s\nmarshalled:\n%s", got, want)
		}
		if want := Push("world.updated", newWorldConfig(w)); !bytes.Equal(updated, want) {
			t.Errorf("world.updated:\n%s\nwant\n%s", updated, want)
		}
		if want := marshal(newWorldConfig(w)); !bytes.Equal(worldConfigOf(updated), want) {
			t.Errorf("world.config:\n%s\nwant\n%s", worldConfigOf(updated), want)
		}
	}
}
