package owner

import (
	"sync"
	"testing"

	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/room"
)

type recorder struct {
	mu     sync.Mutex
	events []op.EventKind
}

func (r *recorder) Publish(_ []string, ev *op.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev.Kind)
	r.mu.Unlock()
}

func TestEnterWithAndWithoutViewers(t *testing.T) {
	pub := &recorder{}
	l := New(Config{Room: room.DefaultConfig()}, nil, pub)
	defer l.Close()
	ctx := t.Context()
	viewers, err := l.Enter(ctx, "r", op.User{ID: "a"}, "e1", true)
	if err != nil || len(viewers) != 1 || viewers[0].ID != "a" {
		t.Fatalf("enter with viewers = %v, %v", viewers, err)
	}
	viewers, err = l.Enter(ctx, "r", op.User{ID: "b"}, "e2", false)
	if err != nil || viewers != nil {
		t.Fatalf("enter without viewers = %v, %v; want nothing", viewers, err)
	}
	if n := l.Rooms().Viewers("r"); n != 2 {
		t.Fatalf("viewers = %d, want 2", n)
	}
	l.Leave(ctx, "r", "b", "e2")
	if n := l.Rooms().Viewers("r"); n != 1 {
		t.Fatalf("viewers after leave = %d, want 1", n)
	}
	pub.mu.Lock()
	defer pub.mu.Unlock()
	// The room's occupancy became few with the first user, and stayed.
	want := []op.EventKind{op.EvViewerAdded, op.EvUserCount, op.EvViewerAdded, op.EvViewerRemoved}
	if len(pub.events) != len(want) {
		t.Fatalf("published %v, want %v", pub.events, want)
	}
	for i := range want {
		if pub.events[i] != want[i] {
			t.Fatalf("published %v, want %v", pub.events, want)
		}
	}
}
