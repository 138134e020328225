// Package announce turns catalog changes into the client events that tell
// a node's sessions about them. It is where the node's catalog changes
// end, whichever source made them: the websocket's admin actions and the
// admin API (node/engine, under Kubernetes through node/kube's writer),
// and the changes other nodes made, as catalog replication applies them
// (node/cluster).
package announce

import (
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
type Announcer struct {
	to    Deliverer
	world *coalescer
}

// New returns an Announcer delivering to to, with at most one
// world.updated per window (0: one per batch of changes, at once).
func New(to Deliverer, window time.Duration) *Announcer {
	return NewWithClock(to, window, realClock{})
}

// NewWithClock is New with the clock that times the windows.
func NewWithClock(to Deliverer, window time.Duration, clock Clock) *Announcer {
	a := &Announcer{to: to}
	a.world = &coalescer{window: window, clock: clock, push: func() { to.Deliver(op.NewWorldUpdated()) }}
	return a
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
	world := false
	for _, c := range changes {
		switch {
		case c.Before == nil && c.After != nil:
			a.to.Deliver(op.NewRoomCreated(c.ID))
		case c.Before != nil && c.After == nil:
			a.to.Deliver(op.NewRoomDeleted(c.ID))
		case c.Before != nil && c.After != nil:
			world = world || worldChanged(c)
		}
	}
	if world {
		a.world.request()
	}
}

// Close drops a pending world.updated and stops the window's timer; later
// changes deliver room.create and room.delete only. Safe to call twice.
func (a *Announcer) Close() { a.world.close() }

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
