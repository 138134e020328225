package cluster

import (
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roomring/roomring/node/cluster/ring"
)

func mustRing(t *testing.T, members ...string) *ring.Ring {
	t.Helper()
	r, err := ring.New(ring.DefaultConfig(), members)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// gainedRoom returns a room that next places on self and prev elsewhere.
func gainedRoom(t *testing.T, prev, next *ring.Ring, self string) string {
	t.Helper()
	for i := range 1000 {
		id := "room-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		if next.Owner(id) == self && prev.Owner(id) != self {
			return id
		}
	}
	t.Fatal("no room moves to " + self)
	return ""
}

func TestPlacementRebuildEndsWhenEveryMemberReported(t *testing.T) {
	prev := mustRing(t, "a", "b")
	p := newPlacement("c", time.Minute, prev, slog.New(slog.DiscardHandler))
	if p.State() != Joining {
		t.Fatalf("state before gossip = %s, want joining", p.State())
	}
	next := mustRing(t, "a", "b", "c")
	room := gainedRoom(t, prev, next, "c")
	var mu sync.Mutex
	var snapshots []string
	p.rebuilt = func(gained func(string) bool) {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range []string{room, "kept-elsewhere"} {
			if gained(id) && next.Owner(id) == "c" {
				snapshots = append(snapshots, id)
			}
		}
	}
	p.startRebuild(prev)
	p.setRing(next)
	if !p.Rebuilding(room) {
		t.Fatalf("%s, gained in the change, is not rebuilding", room)
	}
	h := ringHashOf(next)
	p.synced("a", h)
	p.synced("b", 0) // an old ring's report does not count
	p.synced("c", h)
	if !p.Rebuilding(room) {
		t.Fatal("rebuild ended before every member reported for the current ring")
	}
	p.synced("b", h)
	if p.Rebuilding(room) {
		t.Fatal("rebuild still open after every member reported")
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(snapshots, room) {
		t.Fatalf("snapshots %v, want the gained room %s", snapshots, room)
	}
}

func TestPlacementLeaving(t *testing.T) {
	p := newPlacement("a", time.Minute, mustRing(t, "a"), slog.New(slog.DiscardHandler))
	if !owns(p, "r") {
		t.Fatal("a node alone does not own its rooms")
	}
	if p.leave() {
		t.Fatal("first leave reported as repeated")
	}
	if !p.leave() || p.State() != Leaving || owns(p, "r") {
		t.Fatalf("after leave: state %s, owns %v", p.State(), owns(p, "r"))
	}
	if !slices.Equal(p.Members(), []string{"a"}) {
		t.Fatalf("members = %v", p.Members())
	}
}
