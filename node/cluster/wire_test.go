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

// oldWireUser is wireUser as nodes before op.Profile sent and read it: the
// profile as a map, omitted when empty.
type oldWireUser struct {
	ID        string         `json:"id"`
	Profile   map[string]any `json:"profile,omitempty"`
	Badges    []string       `json:"badges,omitempty"`
	Incognito bool           `json:"incognito,omitempty"`
}

// TestWireUserAcrossVersions: during a rolling upgrade nodes that keep
// profiles as JSON text and nodes that kept maps read each other's users:
// the same object either way, the same bytes when the profile's keys are
// sorted (as a map writes them), the profile omitted when empty.
func TestWireUserAcrossVersions(t *testing.T) {
	for _, tc := range []struct {
		profile  string
		sameText bool // the old encoder writes the same bytes
	}{
		{`{}`, true},
		{`{"display_name":"Zoë","privacyMode":1}`, true},
		{`{"z":{"b":[1,2.5,"東京"],"a":null},"a":"<&>"}`, false}, // key order, escaping differ
	} {
		var m map[string]any
		if err := json.Unmarshal([]byte(tc.profile), &m); err != nil {
			t.Fatal(err)
		}
		u := op.User{ID: "u", Profile: op.MustProfile(tc.profile), Badges: []string{"b"}, Incognito: true}
		newBytes, err := json.Marshal(toWireUser(u))
		if err != nil {
			t.Fatal(err)
		}
		oldBytes, err := json.Marshal(oldWireUser{ID: "u", Profile: m, Badges: []string{"b"}, Incognito: true})
		if err != nil {
			t.Fatal(err)
		}
		if tc.sameText && string(newBytes) != string(oldBytes) {
			t.Errorf("new %s, old %s: want the same bytes", newBytes, oldBytes)
		}
		// new → old
		var old oldWireUser
		if err := json.Unmarshal(newBytes, &old); err != nil || old.ID != "u" || !old.Incognito || len(old.Profile) != len(m) ||
			(len(m) > 0 && !reflect.DeepEqual(old.Profile, m)) {
			t.Errorf("an old node reads %s as %+v, %v; want profile %v", newBytes, old, err, m)
		}
		// old → new
		var w wireUser
		if err := json.Unmarshal(oldBytes, &w); err != nil {
			t.Fatalf("a new node cannot read %s: %v", oldBytes, err)
		}
		got := w.user()
		var back map[string]any
		if err := json.Unmarshal(got.Profile.JSON(), &back); err != nil || got.ID != "u" || !got.Incognito ||
			len(back) != len(m) || (len(m) > 0 && !reflect.DeepEqual(back, m)) {
			t.Errorf("a new node reads %s as %+v (profile %s), %v; want profile %v", oldBytes, got, got.Profile, err, m)
		}
	}
}
