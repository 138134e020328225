package edge

import (
	"sync"

	"github.com/roomring/roomring/node/op"
)

// toldViewers is a room's viewers as this edge's sessions of the room were
// told of them (enter replies, viewer events). When the room's owner
// changes, the new owner sends a viewer snapshot; the difference between
// it and what the sessions were told is the viewer events they missed.
//
// Concurrency: one lock, its own, and it takes no other; every method may
// be called from any goroutine. The zero toldViewers is not ready: call
// init once (its room's record does, when it is made).
type toldViewers struct {
	mu   sync.Mutex
	seen map[string]struct{} // user ids
}

// init readies t.
func (t *toldViewers) init() { t.seen = map[string]struct{}{} }

// saw records that the sessions were told users are viewers.
func (t *toldViewers) saw(users []op.User) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, u := range users {
		if !u.Incognito {
			t.seen[u.ID] = struct{}{}
		}
	}
}

// told records a viewer event the sessions are being sent; other events
// are ignored.
func (t *toldViewers) told(ev *op.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch ev.Kind {
	case op.EvViewerAdded:
		t.seen[ev.Subject] = struct{}{}
	case op.EvViewerRemoved:
		delete(t.seen, ev.Subject)
	}
}

// missed turns an owner's viewer snapshot of room into the viewer events
// the sessions missed — removals of viewers they were told of that are
// gone, additions of viewers they were not told of — and records the
// snapshot as what they now know.
func (t *toldViewers) missed(room string, snap op.ViewerSnapshot) []*op.Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := make(map[string]struct{}, len(snap.Users))
	var out []*op.Event
	for _, u := range snap.Users {
		now[u.ID] = struct{}{}
		if _, ok := t.seen[u.ID]; !ok {
			out = append(out, op.NewViewerAdded(room, u))
		}
	}
	for uid := range t.seen {
		if _, ok := now[uid]; !ok {
			out = append(out, op.NewViewerRemoved(room, uid))
		}
	}
	t.seen = now
	return out
}
