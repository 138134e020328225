package cluster

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/roomring/roomring/node/op"
)

// Events cross nodes as JSON and must come out as the Go values the
// encoders of each dialect expect, with what JSON would lose (incognito).
func TestEventsSurviveTheWire(t *testing.T) {
	hidden := op.User{ID: "h", Profile: op.MustProfile(`{"privacyMode":1}`), Badges: []string{}, Incognito: true}
	alice := op.User{ID: "alice", Profile: op.MustProfile(`{"display_name":"Alice"}`), Badges: []string{}}
	updated := time.Date(2026, 5, 1, 12, 0, 0, 123e6, time.UTC)
	for _, ev := range []*op.Event{
		{Kind: op.EvViewerAdded, Room: "r", Audience: op.ToRoomViewers, Subject: "alice", Data: op.ViewerAdded{User: alice}},
		{Kind: op.EvViewerRemoved, Room: "r", Audience: op.ToRoomViewers, Subject: "alice", Data: op.ViewerRemoved{UserID: "alice"}},
		{Kind: op.EvReaction, Room: "r", Data: op.Reaction{Room: "r", Reactions: map[string]int{"👏": 3}}},
		{Kind: op.EvSchedule, Room: "r", Data: op.Schedule{Room: "r", ScheduleData: map[string]any{"title": "T"}}},
		{Kind: op.EvViewerSnapshot, Room: "r", Audience: op.ToRoomViewers, Data: op.ViewerSnapshot{Users: []op.User{alice}}},
		{Kind: op.EvResourceUpdated, Room: "r", Subject: "h", Data: op.ResourceReactionUpdated{Room: "r", Resource: "res", Reaction: "🎉", Updated: updated, User: hidden}},
	} {
		w, err := toWireEvent(ev)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(request{Op: opDeliver, Room: ev.Room, Event: w})
		if err != nil {
			t.Fatal(err)
		}
		var q request
		if err := json.Unmarshal(b, &q); err != nil {
			t.Fatal(err)
		}
		got, err := q.event()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, ev) {
			t.Errorf("%s came out as\n %#v\nwant\n %#v", ev.Kind, got, ev)
		}
	}
	// Kinds this package does not know travel as raw JSON.
	w := &wireEvent{Kind: "future.kind", Data: json.RawMessage(`{"n":1}`)}
	got, err := w.event()
	if err != nil || string(got.Data.(op.Unknown).JSON) != `{"n":1}` {
		t.Fatalf("unknown kind: %#v, %v", got.Data, err)
	}
}

// Every registered kind comes back as it went, and the peer form keeps
// the JSON keys older nodes read.
func TestPeerFormsRoundTrip(t *testing.T) {
	ghost := op.User{ID: "g", Badges: []string{}, Incognito: true}
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		ev   *op.Event
		data string
	}{
		{op.NewViewerRemoved("r", "a"), `{"user_id":"a"}`},
		{op.NewReaction("r", map[string]int{"👏": 1}), `{"room":"r","reactions":{"👏":1}}`},
		{op.NewSchedule("r", map[string]any{"title": "T"}), `{"room":"r","schedule_data":{"title":"T"}}`},
		{op.NewRoomDeleted("", "r"), `{"id":"r"}`},
		{op.NewRoomCreated("", "r"), `{"id":"r"}`},
		{op.NewWorldUpdated(""), `{}`},
		{op.NewResourceReactionDeleted(op.ResourceReaction{Room: "r", Resource: "x", Reaction: "👍", Updated: at, User: ghost}),
			`{"room":"r","resource":"x","comment":"","reaction":"👍","updated":"2026-05-01T12:00:00Z","user":{"id":"g","incognito":true}}`},
	} {
		if _, ok := peerForms[tc.ev.Kind]; !ok {
			t.Errorf("%s has no peer form", tc.ev.Kind)
			continue
		}
		w, err := toWireEvent(tc.ev)
		if err != nil {
			t.Fatal(err)
		}
		if string(w.Data) != tc.data {
			t.Errorf("%s travels as %s, want %s", tc.ev.Kind, w.Data, tc.data)
		}
		got, err := w.event()
		if err != nil || !reflect.DeepEqual(got, tc.ev) {
			t.Errorf("%s came out as %#v (%v), want %#v", tc.ev.Kind, got, err, tc.ev)
		}
	}
	// A payload that is not its kind's is refused, not sent wrong.
	if _, err := toWireEvent(&op.Event{Kind: op.EvReaction, Data: op.RoomDeleted{ID: "r"}}); err == nil {
		t.Error("mismatched payload encoded")
	}
}
