// Package announce turns catalog changes into the client events that tell
// a node's sessions about them. It is where the node's catalog changes
// end, whichever source made them: the websocket's admin actions and the
// admin API (node/engine, under Kubernetes through node/kube's writer),
// and the changes other nodes made, as catalog replication applies them
// (node/cluster).
package announce

import (
	"slices"
	"sync"
	"time"

	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/op"
)

// Deliverer fans an event out to this node's sessions (edge.Edge). Deliver
// must be safe for concurrent use and return once the event is handed to
// every session of its audience.
type Deliverer interface {
	Deliver(ev *op.Event)
}

// Announcer tells one node's sessions about catalog changes. A node has
// one, shared by everything that changes its catalog (engine and
// cluster), so that their world.updated pushes coalesce together.
//
// Events reach the clients of the changed room's world only (op.Event's
// World): a room naming no world is of the node's built-in world
// (SetBuiltinWorld), and each world's world.updated is coalesced on its
// own. A world's own change (catalog.Change.IsWorld) goes to the world
// hook (OnWorld), which reconfigures the node's engines, then as a
// world.updated to the world's clients.
type Announcer struct {
	to     Deliverer
	window time.Duration
	clock  Clock

	mu      sync.Mutex
	builtin string
	worlds  map[string]*coalescer // by world id, made on first use
	closed  bool
	onWorld func(catalog.Change)
}

// New returns an Announcer delivering to to, with at most one
// world.updated per world and window (0: one per batch of changes, at
// once).
func New(to Deliverer, window time.Duration) *Announcer {
	return NewWithClock(to, window, realClock{})
}

// NewWithClock is New with the clock that times the windows.
func NewWithClock(to Deliverer, window time.Duration, clock Clock) *Announcer {
	return &Announcer{to: to, window: window, clock: clock, worlds: map[string]*coalescer{}}
}

// SetBuiltinWorld names the world of the rooms that name none (default:
// ""). Call before the Announcer is shared.
func (a *Announcer) SetBuiltinWorld(id string) { a.builtin = id }

// OnWorld sets the hook that hears of world configuration changes; it is
// called synchronously from Changes, before the world's clients get
// world.updated. Call before the Announcer is shared.
func (a *Announcer) OnWorld(fn func(catalog.Change)) { a.onWorld = fn }

// coalescerOf returns world's coalescer, making it on first use.
func (a *Announcer) coalescerOf(world string) *coalescer {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.worlds[world]
	if c == nil {
		c = &coalescer{window: a.window, clock: a.clock, push: func() { a.to.Deliver(op.NewWorldUpdated(world)) }}
		if a.closed {
			c.close()
		}
		a.worlds[world] = c
	}
	return c
}

// Changes tells this node's sessions about changes the catalog holds
// already (never before: a client told of a room can see it):
//
//   - a new room: room.create, at once, which each session encodes as it
//     sees the room (or not at all);
//   - a deleted room: room.delete, at once, which also drops the room's
//     local subscriptions;
//   - any other change: a world.updated, unless the configuration is the
//     same as before or only the schedule data changed (room.schedule
//     reaches the room's members from its owner); a room.config.patch or
//     room.config.reorder (catalog.CauseUpdate) always asks for one, as
//     the client that made it expects.
//
// world.updated is coalesced (coalescer): the first one of a quiet period
// is delivered at once, before Changes returns; the ones asked for during
// the window that follows become one delivery at the window's end. Each
// session encodes world.updated from the catalog when it is delivered, so
// a coalesced one shows every change made before it, room.create and
// room.delete included, and never an older list than one sent before it.
//
// Changes is safe for concurrent use and returns once room.create,
// room.delete and an immediate world.updated are delivered.
func (a *Announcer) Changes(changes ...catalog.Change) {
	var worlds []string
	ask := func(w string) {
		if !slices.Contains(worlds, w) {
			worlds = append(worlds, w)
		}
	}
	for _, c := range changes {
		switch {
		case c.IsWorld():
			if a.onWorld != nil {
				a.onWorld(c)
			}
			ask(c.ID)
		case c.Before == nil && c.After != nil:
			a.to.Deliver(op.NewRoomCreated(catalog.WorldOf(c.After, a.builtin), c.ID))
		case c.Before != nil && c.After == nil:
			a.to.Deliver(op.NewRoomDeleted(catalog.WorldOf(c.Before, a.builtin), c.ID))
		case c.Before != nil && c.After != nil && c.Before.World != c.After.World:
			// Moved to another world: gone from one, new in the other.
			a.to.Deliver(op.NewRoomDeleted(catalog.WorldOf(c.Before, a.builtin), c.ID))
			a.to.Deliver(op.NewRoomCreated(catalog.WorldOf(c.After, a.builtin), c.ID))
		case c.Before != nil && c.After != nil && worldChanged(c):
			ask(catalog.WorldOf(c.After, a.builtin))
		}
	}
	for _, w := range worlds {
		a.coalescerOf(w).request()
	}
}

// Close drops pending world.updated pushes and stops the windows' timers;
// later changes deliver room.create and room.delete only. Safe to call
// twice.
func (a *Announcer) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	for _, c := range a.worlds {
		c.close()
	}
}

// worldChanged reports whether a change to an existing room changes the
// world configuration clients hold.
func worldChanged(c catalog.Change) bool {
	switch c.Cause {
	case catalog.CauseSchedule:
		return false
	case catalog.CauseUpdate:
		return true
	}
	return !c.Before.Equal(c.After)
}
