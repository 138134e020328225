package admin_test

import (
	"context"
	"testing"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/node/nodetest"
)

// TestReplaceNeverReopens: a PUT with If-Match: * (the operator's push of
// a room it read) replaces a room the node serves, and leaves a closed one
// closed: 412, no room.create.
func TestReplaceNeverReopens(t *testing.T) {
	n := startNode(t)
	c := nodetest.AdminClient(t, token, n.Addr())
	ctx := context.Background()
	g := nodetest.Guest(t, n, "watcher")

	if _, err := c.PutRoom(ctx, "hall-b", &v1alpha1.RoomSpec{DisplayName: "Hall B"}); err != nil {
		t.Fatal(err)
	}
	g.Event("room.create")
	st, err := c.ReplaceRoom(ctx, "hall-b", &v1alpha1.RoomSpec{DisplayName: "Hall B (live)"})
	if err != nil || st.Change != "updated" || served(t, st).Name != "Hall B (live)" {
		t.Fatalf("replace a served room = %+v, %v; want updated", st, err)
	}

	if err := c.DeleteRoom(ctx, "hall-b"); err != nil {
		t.Fatal(err)
	}
	g.Event("room.delete")
	_, err = c.ReplaceRoom(ctx, "hall-b", &v1alpha1.RoomSpec{DisplayName: "Hall B (live)"})
	if !adminapi.IsPreconditionFailed(err) {
		t.Fatalf("replace a closed room: %v, want 412", err)
	}
	if _, err := c.Room(ctx, "hall-b"); !adminapi.IsNotFound(err) {
		t.Fatalf("the closed room is served again: %v", err)
	}
	// A reply of g's comes after every event sent to it before.
	if code := g.CallErr("room.enter", map[string]any{"room": "hall-b"}); code == "" {
		t.Fatal("room.enter of the closed room succeeded")
	}
	if g.Has(nodetest.IsEvent("room.create", "")) {
		t.Fatal("the replace reopened the room (room.create)")
	}
}
