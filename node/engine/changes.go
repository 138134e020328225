package engine

import (
	"github.com/roomring/roomring/node/catalog"
)

// changed tells this node's sessions about catalog changes the engine
// made (announce.Announcer.Changes). In a cluster the other nodes announce the same
// changes when catalog replication applies them there, so an event never
// reaches a node before the configuration it announces. Schedule changes
// are not announced here: room.schedule goes to the room's members through
// its owner.
func (e *Engine) changed(changes ...catalog.Change) { e.announce.Changes(changes...) }

// reordered is what a room.config.reorder did: before and after are the
// catalog's rooms around it. Every room present in both is an update (a
// reorder announces one world.updated even when the order stays).
func reordered(before, after []*catalog.Room) []catalog.Change {
	was := make(map[string]*catalog.Room, len(before))
	for _, r := range before {
		was[r.ID] = r
	}
	out := make([]catalog.Change, 0, len(after))
	for _, r := range after {
		if b := was[r.ID]; b != nil {
			out = append(out, catalog.Change{ID: r.ID, Before: b, After: r, Cause: catalog.CauseUpdate})
		}
	}
	return out
}
