package room

import (
	"slices"
	"strings"

	"github.com/roomring/roomring/node/op"
)

// A room's occupancy is venueless' none/few/many bucket of its user count
// (op.OccupancyOf). The owner publishes world.user_count_change to every
// edge of the pool when the bucket changes, never on an enter or leave
// that keeps it: a room of 45,000 users costs one event when it passes 10
// users, not one per user. Each edge remembers the last bucket it heard of
// each room, for the world.config of the sessions that connect later.

// recount publishes the room's occupancy when its bucket changed since
// the last one published. Called with s.mu held.
func (s *state) recount(pub Publisher) {
	b := op.OccupancyOf(len(s.users))
	if b == s.occupancy {
		return
	}
	s.occupancy = b
	pub.Publish(nil, op.NewUserCount(s.id, b))
}

// told is the occupancy the pool was last told of room (Config.Told).
func (m *Manager) told(room string) op.Occupancy {
	if m.cfg.Told == nil {
		return op.OccupancyNone
	}
	return m.cfg.Told(room)
}

// Recount publishes room's occupancy when it differs from the one the
// pool was last told: an owner that gained a room (its previous owner
// died) does it once it has rebuilt the room, also for a room none of
// whose users survived, which has no state here and is told it is empty.
func (m *Manager) Recount(roomID string) {
	s := m.lookup(roomID)
	if s == nil {
		if m.told(roomID) != op.OccupancyNone {
			m.pub.Publish(nil, op.NewUserCount(roomID, op.OccupancyNone))
		}
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.recount(m.pub)
	}
}

// Occupancies calls publish with the occupancy of every room with state
// on this owner that is not empty, in room order: what an owner tells an
// edge that connects late (node/cluster). publish runs under the room's
// lock, so the room's later changes are published after it; like
// Publisher.Publish it must not block.
func (m *Manager) Occupancies(publish func(room string, b op.Occupancy)) {
	all := m.states()
	slices.SortFunc(all, func(a, b *state) int { return strings.Compare(a.id, b.id) })
	for _, s := range all {
		s.mu.Lock()
		if !s.closed && s.occupancy != op.OccupancyNone {
			publish(s.id, s.occupancy)
		}
		s.mu.Unlock()
	}
}
