package edge

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"

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
	// gen counts the changes of a room's bucket (OccupancyGeneration);
	// written under mu, after the map.
	gen atomic.Uint64
}

func (o *occupancies) set(room string, b op.Occupancy) {
	o.mu.Lock()
	defer o.mu.Unlock()
	old, had := o.rooms[room]
	if !had {
		old = op.OccupancyNone
	}
	if old == b {
		return
	}
	if b == op.OccupancyNone {
		delete(o.rooms, room)
	} else {
		if o.rooms == nil {
			o.rooms = map[string]op.Occupancy{}
		}
		o.rooms[room] = b
	}
	o.gen.Add(1)
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

// OccupancyGeneration counts the changes of any room's occupancy bucket
// (none, few, many) this edge heard of, in any world; a repeated bucket
// does not count. It grows after the change is visible to Occupancy: a
// caller that loads g and then reads occupancies sees every change g
// counts, and may reuse what it derived from them while
// OccupancyGeneration is still g.
func (e *Edge) OccupancyGeneration() uint64 { return e.occ.gen.Load() }

// Occupancy is the room's occupancy as its owner last told this edge
// (op.OccupancyNone when it told nothing).
func (e *Edge) Occupancy(room string) op.Occupancy { return e.occ.get(room) }
