package room

import (
	"slices"
	"testing"

	"github.com/roomring/roomring/node/op"
)

func TestSyncEdgeRebuildsSilentlyAndRemovesStaleUsers(t *testing.T) {
	m, rec, _ := newManager(t)
	// A new owner learns the room from two edges' announcements: nobody is
	// told (they heard of these users from the previous owner).
	m.SyncEdge("r", "e1", []op.User{u("a"), u("b")})
	m.SyncEdge("r", "e2", []op.User{u("b"), u("c")})
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("sync published %d events", len(got))
	}
	if n := m.Viewers("r"); n != 3 {
		t.Fatalf("viewers = %d, want 3", n)
	}
	// A user entering afterwards is announced to both edges.
	m.Enter("r", u("d"), "e1")
	if got := rec.take(); len(got) != 1 || !slices.Equal(got[0].edges, []string{"e1", "e2"}) || got[0].ev.Kind != op.EvViewerAdded {
		t.Fatalf("enter after sync published %+v", got)
	}
	// e1 re-announces without a and d: a and d leave; b stays (e2 has b).
	m.SyncEdge("r", "e1", []op.User{u("b")})
	var removed []string
	for _, p := range rec.take() {
		if p.ev.Kind != op.EvViewerRemoved {
			t.Fatalf("unexpected %s", p.ev.Kind)
		}
		removed = append(removed, p.ev.Subject)
	}
	slices.Sort(removed)
	if !slices.Equal(removed, []string{"a", "d"}) || m.Viewers("r") != 2 {
		t.Fatalf("removed %v, viewers %d", removed, m.Viewers("r"))
	}
	// An empty announcement for an unknown room creates no state.
	m.SyncEdge("other", "e1", nil)
	if slices.Contains(m.Rooms(), "other") {
		t.Fatal("empty sync created state")
	}
	if got := m.Rooms(); !slices.Equal(got, []string{"r"}) {
		t.Fatalf("Rooms = %v", got)
	}
	// The whole edge leaving empties the room.
	m.SyncEdge("r", "e1", nil)
	m.SyncEdge("r", "e2", nil)
	if m.Viewers("r") != 0 {
		t.Fatalf("viewers = %d after both edges emptied", m.Viewers("r"))
	}
}
