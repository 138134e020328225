package announce

import (
	"slices"
	"testing"

	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/op"
)

type worldRecorder []string

func (r *worldRecorder) Deliver(ev *op.Event) {
	*r = append(*r, string(ev.Kind)+":"+ev.Room+"@"+ev.World)
}

// TestChangesByWorld: each event names the world of its room (a room of
// no world: the built-in one), each world gets its own world.updated, a
// room moved between worlds is deleted in one and created in the other,
// and a world's own change goes to the hook before its world.updated.
func TestChangesByWorld(t *testing.T) {
	var got worldRecorder
	var hooked []string
	a := New(&got, 0)
	a.SetBuiltinWorld("main")
	a.OnWorld(func(c catalog.Change) { hooked = append(hooked, c.ID); got = append(got, "hook:"+c.ID) })
	lobby := &catalog.Room{ID: "lobby", Name: "Lobby"}
	hall := &catalog.Room{ID: "hall", World: "expo", Name: "Hall"}
	hall2 := &catalog.Room{ID: "hall", World: "expo", Name: "Hall 2"}
	moved := &catalog.Room{ID: "hall", World: "fair", Name: "Hall 2"}
	a.Changes(
		catalog.Change{ID: "lobby", After: lobby, Cause: catalog.CauseCreate},
		catalog.Change{ID: "hall", Before: hall, After: hall2, Cause: catalog.CauseManifest},
		catalog.Change{ID: "lobby", Before: lobby, After: lobby, Cause: catalog.CauseUpdate},
		catalog.Change{ID: "hall", Before: hall2, After: moved, Cause: catalog.CauseManifest},
		catalog.Change{ID: "expo", WorldAfter: &catalog.World{ID: "expo"}, Cause: catalog.CauseManifest},
	)
	want := []string{"room.create:lobby@main", "room.delete:hall@expo", "room.create:hall@fair", "hook:expo",
		"world.updated:@expo", "world.updated:@main"}
	if !slices.Equal(got, want) || !slices.Equal(hooked, []string{"expo"}) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
