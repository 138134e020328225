package edge

import (
	"slices"
	"testing"

	"github.com/roomring/roomring/node/op"
)

// TestToldViewersMissed: a snapshot implies the additions of viewers not
// told of and the removals of those told of that are gone, and becomes
// what was told.
func TestToldViewersMissed(t *testing.T) {
	var tv toldViewers
	tv.init()
	tv.saw([]op.User{{ID: "a"}, {ID: "b"}})
	tv.told(&op.Event{Kind: op.EvViewerAdded, Subject: "c"})
	tv.told(&op.Event{Kind: op.EvViewerRemoved, Subject: "b"})
	tv.told(&op.Event{Kind: op.EvReaction, Subject: "x"}) // not a viewer event
	var got []string
	for _, ev := range tv.missed("r", op.ViewerSnapshot{Users: []op.User{{ID: "a"}, {ID: "d"}}}) {
		if ev.Room != "r" || ev.Audience != op.ToRoomViewers {
			t.Fatalf("event %+v", ev)
		}
		got = append(got, string(ev.Kind)+":"+ev.Subject)
	}
	slices.Sort(got)
	want := []string{string(op.EvViewerAdded) + ":d", string(op.EvViewerRemoved) + ":c"}
	if !slices.Equal(got, want) {
		t.Fatalf("missed %v, want %v", got, want)
	}
	if again := tv.missed("r", op.ViewerSnapshot{Users: []op.User{{ID: "a"}, {ID: "d"}}}); len(again) != 0 {
		t.Fatalf("the same snapshot again implied %d events", len(again))
	}
}
