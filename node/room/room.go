// Package room is the owner side of rooms: for every room this node owns it
// keeps the viewer set (deduplicated per user across edges), the per-user
// reaction debounce and the reaction aggregation window, and publishes the
// resulting events to the edges that hold the room's members.
//
// The Manager is the single writer of that soft state. In a cluster the ring
// decides which node's Manager owns a room; edges reach it locally or over a
// peer link, and can rebuild it at any time by re-announcing their members
// (Enter is idempotent per user and edge).
package room

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/roomring/roomring/node/op"
)

// Publisher delivers an owner's events to edges.
//
// Publish is called with the room's lock held, so events of one room are
// published in order; it must not block (implementations queue, bounded) and
// must not call back into the Manager. An event with Audience op.ToWorld
// (world.user_count_change) goes to every edge of the pool, whatever edges
// says: the room's Manager calls it with none.
type Publisher interface {
	Publish(edges []string, ev *op.Event)
}

// Config tunes the owner.
type Config struct {
	// ReactionWindow is the aggregation period of room.reaction broadcasts.
	ReactionWindow time.Duration
	// ReactionDebounce is how long a user's repeat of the same reaction in a
	// room is acknowledged but not counted.
	ReactionDebounce time.Duration
	// Told, when set, is the occupancy the pool was last told of a room
	// (the node's edge remembers it): a room's state starts from it, so
	// that an owner that gains a room publishes only a real change
	// (occupancy.go). Nil: none.
	Told func(room string) op.Occupancy
}

// DefaultConfig is venueless' behaviour: one broadcast a second, a 2 s debounce.
func DefaultConfig() Config {
	return Config{ReactionWindow: time.Second, ReactionDebounce: 2 * time.Second}
}

// Manager owns rooms' soft state. It is safe for concurrent use.
type Manager struct {
	cfg Config
	pub Publisher
	now func() time.Time

	mu    sync.Mutex
	rooms map[string]*state
	dirty map[*state]struct{} // rooms with counts or debounce entries

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

type state struct {
	id string

	mu       sync.Mutex
	users    map[string]*viewer
	edges    map[string]int // edge -> users present through it
	counts   map[string]int
	debounce map[debounceKey]time.Time
	closed   bool
	// occupancy is the bucket of len(users) last published (occupancy.go).
	occupancy op.Occupancy
}

type viewer struct {
	user  op.User
	edges map[string]struct{}
}

type debounceKey struct{ user, reaction string }

// NewManager starts a Manager that publishes through pub.
func NewManager(cfg Config, pub Publisher) *Manager {
	m := &Manager{cfg: cfg, pub: pub, now: time.Now,
		rooms: map[string]*state{}, dirty: map[*state]struct{}{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go m.run()
	return m
}

// Close stops the aggregation loop. It is idempotent.
func (m *Manager) Close() {
	m.stopOnce.Do(func() { close(m.stop) })
	<-m.done
}

func (m *Manager) room(id string) *state {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.rooms[id]
	if s == nil {
		s = &state{id: id, users: map[string]*viewer{}, edges: map[string]int{},
			counts: map[string]int{}, debounce: map[debounceKey]time.Time{}, occupancy: m.told(id)}
		m.rooms[id] = s
	}
	return s
}

func (m *Manager) lookup(id string) *state {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rooms[id]
}

// Enter records that u is present in room through edge and returns the
// room's visible viewers (never incognito users other than u), sorted by
// id. The first presence of a user is published as room.viewer.added.
func (m *Manager) Enter(roomID string, u op.User, edge string) []op.User {
	return m.enter(roomID, u, edge, true)
}

// Join is Enter for a caller that does not need the viewer list (a session
// that may not see it): it records the presence alone, in constant time,
// where building the list costs the room's size.
func (m *Manager) Join(roomID string, u op.User, edge string) {
	m.enter(roomID, u, edge, false)
}

func (m *Manager) enter(roomID string, u op.User, edge string, list bool) []op.User {
	for {
		s := m.room(roomID)
		s.mu.Lock()
		if s.closed { // lost a race with Forget; use the fresh state
			s.mu.Unlock()
			continue
		}
		v := s.users[u.ID]
		if v == nil {
			v = &viewer{user: u, edges: map[string]struct{}{}}
			s.users[u.ID] = v
			if !u.Incognito {
				edges := s.edgeList()
				if _, ok := s.edges[edge]; !ok {
					edges = append(edges, edge)
				}
				m.pub.Publish(edges, op.NewViewerAdded(roomID, u))
			}
			s.recount(m.pub)
		} else {
			v.user = u
		}
		if _, ok := v.edges[edge]; !ok {
			v.edges[edge] = struct{}{}
			s.edges[edge]++
		}
		if !list {
			s.mu.Unlock()
			return nil
		}
		out := make([]op.User, 0, len(s.users))
		for _, w := range s.users {
			if !w.user.Incognito || w.user.ID == u.ID {
				out = append(out, w.user)
			}
		}
		s.mu.Unlock()
		slices.SortFunc(out, func(a, b op.User) int { return strings.Compare(a.ID, b.ID) })
		return out
	}
}

// Leave records that userID is no longer present in room through edge. When
// no edge holds the user any more, room.viewer.removed is published.
func (m *Manager) Leave(roomID, userID, edge string) {
	s := m.lookup(roomID)
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leave(m.pub, userID, edge)
}

func (s *state) leave(pub Publisher, userID, edge string) {
	v := s.users[userID]
	if v == nil {
		return
	}
	if _, ok := v.edges[edge]; !ok {
		return
	}
	delete(v.edges, edge)
	if s.edges[edge]--; s.edges[edge] <= 0 {
		delete(s.edges, edge)
	}
	if len(v.edges) > 0 {
		return
	}
	delete(s.users, userID)
	if !v.user.Incognito {
		s.publishRemoved(pub, s.edgeList(), userID)
	}
	s.recount(pub)
}

func (s *state) publishRemoved(pub Publisher, edges []string, userID string) {
	if len(edges) > 0 {
		pub.Publish(edges, op.NewViewerRemoved(s.id, userID))
	}
}

// states copies the rooms with state, so that each can be locked without
// the manager's lock.
func (m *Manager) states() []*state {
	m.mu.Lock()
	defer m.mu.Unlock()
	all := make([]*state, 0, len(m.rooms))
	for _, s := range m.rooms {
		all = append(all, s)
	}
	return all
}

// DropEdge removes every presence held through edge (an edge node that died
// or left), publishing removals for users no other edge holds.
func (m *Manager) DropEdge(edge string) {
	for _, s := range m.states() {
		s.mu.Lock()
		if _, ok := s.edges[edge]; ok {
			// The dead edge is told nothing: drop it before publishing.
			delete(s.edges, edge)
			edges := s.edgeList()
			for uid, v := range s.users {
				if _, ok := v.edges[edge]; !ok {
					continue
				}
				delete(v.edges, edge)
				if len(v.edges) == 0 {
					delete(s.users, uid)
					if !v.user.Incognito {
						s.publishRemoved(m.pub, edges, uid)
					}
				}
			}
			s.recount(m.pub)
		}
		s.mu.Unlock()
	}
}

// SyncEdge makes users the exact set of users present in room through edge
// — an edge's announcement of its members after the room changed owner, or
// to repair lost updates. Users it removes leave as in Leave. Users it adds
// are published as in Enter when announce is true; while a new owner
// rebuilds a room, the members heard of them from the previous owner
// already, and the rebuild ends with a Snapshot instead. An empty
// announcement for a room without state creates none.
func (m *Manager) SyncEdge(roomID, edge string, users []op.User, announce bool) {
	for {
		var s *state
		if len(users) == 0 {
			if s = m.lookup(roomID); s == nil {
				return
			}
		} else {
			s = m.room(roomID)
		}
		s.mu.Lock()
		if s.closed { // lost a race with Forget; use the fresh state
			s.mu.Unlock()
			continue
		}
		keep := make(map[string]bool, len(users))
		for _, u := range users {
			keep[u.ID] = true
			v := s.users[u.ID]
			if v == nil {
				v = &viewer{edges: map[string]struct{}{}}
				s.users[u.ID] = v
				if announce && !u.Incognito {
					edges := s.edgeList()
					if _, ok := s.edges[edge]; !ok {
						edges = append(edges, edge)
					}
					m.pub.Publish(edges, op.NewViewerAdded(roomID, u))
				}
			}
			v.user = u
			if _, ok := v.edges[edge]; !ok {
				v.edges[edge] = struct{}{}
				s.edges[edge]++
			}
		}
		for uid, v := range s.users {
			if _, ok := v.edges[edge]; ok && !keep[uid] {
				s.leave(m.pub, uid, edge)
			}
		}
		if announce { // a rebuild's count is published by its Snapshot
			s.recount(m.pub)
		}
		s.mu.Unlock()
		return
	}
}

// Snapshot publishes the room's visible viewers (op.EvViewerSnapshot) to
// the given edges, or to every edge with members when none are given, so
// that each can correct what its sessions were told: a new owner does this
// once it has rebuilt the room, and for an edge announcing its members
// after that. A rebuilt room's occupancy is published here too, when its
// bucket is not the one the pool was last told (Config.Told).
func (m *Manager) Snapshot(roomID string, edges ...string) {
	s := m.lookup(roomID)
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	users := make([]op.User, 0, len(s.users))
	for _, v := range s.users {
		if !v.user.Incognito {
			users = append(users, v.user)
		}
	}
	sort.Slice(users, func(i, j int) bool { return users[i].ID < users[j].ID })
	if len(edges) == 0 {
		edges = s.edgeList()
	}
	if len(edges) > 0 {
		m.pub.Publish(edges, op.NewViewerSnapshot(roomID, users))
	}
	s.recount(m.pub)
}

// Rooms returns the ids of the rooms with state on this owner.
func (m *Manager) Rooms() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.rooms))
}

// Announce publishes ev to every edge with members in the room.
func (m *Manager) Announce(roomID string, ev *op.Event) {
	s := m.lookup(roomID)
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if edges := s.edgeList(); len(edges) > 0 {
		m.pub.Publish(edges, ev)
	}
}

// Forget drops a room's state (the room was deleted). Members are not told
// here: the caller publishes room.delete world-wide.
func (m *Manager) Forget(roomID string) {
	m.mu.Lock()
	s := m.rooms[roomID]
	delete(m.rooms, roomID)
	if s != nil {
		delete(m.dirty, s)
	}
	m.mu.Unlock()
	if s != nil {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
	}
}

// Viewers returns the number of distinct users present in room.
func (m *Manager) Viewers(roomID string) int {
	s := m.lookup(roomID)
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.users)
}

// Stats returns the number of rooms with state and the total of their viewers.
func (m *Manager) Stats() (rooms, viewers int) {
	for _, s := range m.states() {
		s.mu.Lock()
		if len(s.users) > 0 {
			rooms++
			viewers += len(s.users)
		}
		s.mu.Unlock()
	}
	return rooms, viewers
}

func (s *state) edgeList() []string {
	out := make([]string, 0, len(s.edges))
	for e := range s.edges {
		out = append(out, e)
	}
	return out
}
