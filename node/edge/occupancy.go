package edge

import (
	"maps"
	"slices"
	"sync"

	"github.com/roomring/roomring/node/op"
)

// occupancies is the last occupancy this edge heard of each room from the
// room's owner (world.user_count_change), for the world.config of the
// sessions that connect later. Rooms never heard of are empty. It holds
// one entry per busy room of the world, whatever this node's sessions.
//
// Concurrency: one lock, its own; safe for concurrent use.
type occupancies struct {
	mu    sync.RWMutex
	rooms map[string]op.Occupancy
}

func (o *occupancies) set(room string, b op.Occupancy) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if b == op.OccupancyNone {
		delete(o.rooms, room)
		return
	}
	if o.rooms == nil {
		o.rooms = map[string]op.Occupancy{}
	}
	o.rooms[room] = b
}

func (o *occupancies) get(room string) op.Occupancy {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if b, ok := o.rooms[room]; ok {
		return b
	}
	return op.OccupancyNone
}

// BusyRooms returns the rooms whose owner last told this edge they are
// not empty.
func (e *Edge) BusyRooms() []string {
	e.occ.mu.RLock()
	defer e.occ.mu.RUnlock()
	return slices.Sorted(maps.Keys(e.occ.rooms))
}

// Occupancy is the room's occupancy as its owner last told this edge
// (op.OccupancyNone when it told nothing).
func (e *Edge) Occupancy(room string) op.Occupancy { return e.occ.get(room) }
