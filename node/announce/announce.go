// Package announce turns catalog changes into the client events that tell
// a node's sessions about them. It is where the node's catalog changes
// end, whichever source made them: the websocket's admin actions and the
// admin API (node/engine, under Kubernetes through node/kube's writer),
// and the changes other nodes made, as catalog replication applies them
// (node/cluster).
package announce

import (
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/op"
)

// Deliverer fans an event out to this node's sessions (edge.Edge). Deliver
// must be safe for concurrent use and return once the event is handed to
// every session of its audience.
type Deliverer interface {
	Deliver(ev *op.Event)
}

// Changes tells this node's sessions about changes the catalog holds
// already (never before: a client told of a room can see it):
//
//   - a new room: room.create, which each session encodes as it sees the
//     room (or not at all);
//   - a deleted room: room.delete, which also drops the room's local
//     subscriptions;
//   - any other change: one world.updated for the whole batch, unless the
//     configuration is the same as before or only the schedule data
//     changed (room.schedule reaches the room's members from its owner);
//     a room.config.patch or room.config.reorder (catalog.CauseUpdate)
//     always announces one, as the client that made it expects.
//
// Changes is safe for concurrent use and returns once the events are
// delivered.
func Changes(to Deliverer, changes ...catalog.Change) {
	world := false
	for _, c := range changes {
		switch {
		case c.Before == nil && c.After != nil:
			to.Deliver(op.NewRoomCreated(c.ID))
		case c.Before != nil && c.After == nil:
			to.Deliver(op.NewRoomDeleted(c.ID))
		case c.Before != nil && c.After != nil:
			world = world || worldChanged(c)
		}
	}
	if world {
		to.Deliver(op.NewWorldUpdated())
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
