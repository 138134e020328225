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
	m.SyncEdge("r", "e1", []op.User{u("a"), u("b")}, false)
	m.SyncEdge("r", "e2", []op.User{u("b"), u("c")}, false)
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
	m.SyncEdge("r", "e1", []op.User{u("b")}, false)
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
	m.SyncEdge("other", "e1", nil, false)
	if slices.Contains(m.Rooms(), "other") {
		t.Fatal("empty sync created state")
	}
	if got := m.Rooms(); !slices.Equal(got, []string{"r"}) {
		t.Fatalf("Rooms = %v", got)
	}
	// The whole edge leaving empties the room.
	m.SyncEdge("r", "e1", nil, false)
	m.SyncEdge("r", "e2", nil, false)
	if m.Viewers("r") != 0 {
		t.Fatalf("viewers = %d after both edges emptied", m.Viewers("r"))
	}
}

func TestSyncEdgeAnnouncesAfterRebuildAndSnapshot(t *testing.T) {
	m, rec, _ := newManager(t)
	m.SyncEdge("r", "e1", []op.User{u("a")}, false)
	m.SyncEdge("r", "e2", []op.User{u("b")}, true) // b is new to everyone
	got := rec.take()
	if len(got) != 1 || got[0].ev.Kind != op.EvViewerAdded || got[0].ev.Subject != "b" || !slices.Equal(got[0].edges, []string{"e1", "e2"}) {
		t.Fatalf("announced sync published %+v", got)
	}
	hidden := op.User{ID: "h", Incognito: true}
	m.SyncEdge("r", "e2", []op.User{u("b"), hidden}, true)
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("incognito user announced: %+v", got)
	}
	m.Snapshot("r")
	got = rec.take()
	if len(got) != 1 || got[0].ev.Kind != op.EvViewerSnapshot || !slices.Equal(got[0].edges, []string{"e1", "e2"}) {
		t.Fatalf("snapshot published %+v", got)
	}
	if users := got[0].ev.Data.(op.ViewerSnapshot).Users; !slices.Equal(ids(users), []string{"a", "b"}) {
		t.Fatalf("snapshot lists %v, want the visible viewers a and b", ids(users))
	}
	m.Snapshot("r", "e2")
	if got := rec.take(); len(got) != 1 || !slices.Equal(got[0].edges, []string{"e2"}) {
		t.Fatalf("snapshot to e2 published %+v", got)
	}
}
