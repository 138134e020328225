package venueless

import (
	"testing"
	"time"

	"github.com/roomring/roomring/node/op"
)

// Each event kind's push, byte for byte.
func TestEncodeEvent(t *testing.T) {
	alice := op.User{ID: "alice", Profile: op.MustProfile(`{"display_name":"Alice"}`), Badges: []string{}}
	ghost := op.User{ID: "ghost", Profile: op.MustProfile(`{"privacyMode":1}`), Badges: []string{}, Incognito: true}
	at := time.Date(2026, 5, 1, 12, 0, 0, 123e6, time.UTC)
	for _, tc := range []struct {
		ev   *op.Event
		want string
	}{
		{op.NewViewerAdded("r", alice), `["room.viewer.added",{"user":{"id":"alice","profile":{"display_name":"Alice"},"badges":[]}}]`},
		{op.NewViewerRemoved("r", "alice"), `["room.viewer.removed",{"user_id":"alice"}]`},
		{op.NewReaction("r", map[string]int{"👏": 2}), `["room.reaction",{"room":"r","reactions":{"👏":2}}]`},
		{op.NewSchedule("r", nil), `["room.schedule",{"room":"r","schedule_data":null}]`},
		{op.NewRoomDeleted("", "r"), `["room.delete",{"id":"r"}]`},
		{op.NewResourceReactionUpdated(op.ResourceReaction{Room: "r", Resource: "talk", Reaction: "👍", Updated: at, User: alice}),
			`["resource.reaction.updated",{"room":"r","resource":"talk","comment":"","reaction":"👍","updated":"2026-05-01T12:00:00.123Z","user":{"id":"alice","profile":{"display_name":"Alice"},"badges":[]}}]`},
		// An incognito user is null: no id, no profile.
		{op.NewResourceReactionDeleted(op.ResourceReaction{Room: "r", Resource: "talk", Comment: "c", Reaction: "👍", Updated: at, User: ghost}),
			`["resource.reaction.deleted",{"room":"r","resource":"talk","comment":"c","reaction":"👍","updated":"2026-05-01T12:00:00.123Z","user":null}]`},
		{&op.Event{Kind: "future.kind", Data: op.Unknown{Kind: "future.kind", JSON: []byte(`{"n":1}`)}}, `["future.kind",{"n":1}]`},
	} {
		got, ok := EncodeEvent(tc.ev)
		if !ok || string(got) != tc.want {
			t.Errorf("%s: got %s (%v), want %s", tc.ev.Kind, got, ok, tc.want)
		}
	}
	if _, ok := EncodeEvent(op.NewViewerSnapshot("r", []op.User{alice})); ok {
		t.Error("a viewer snapshot is not pushed to clients")
	}
}
