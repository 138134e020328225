package edge

import (
	"maps"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/roomring/roomring/node/op"
)

// subscriptions is the index of this node's sessions: the attached ones
// (the audience of world events), and per room the subscribed ones with
// their rights, the users they belong to and those users' identities.
//
// Concurrency: one RWMutex, its own; no other lock is taken under it, and
// every method may be called from any goroutine. A room's record
// (localRoom) lives while the room has subscriptions here; its lane and
// its toldViewers have locks of their own and are used after this lock is
// released. A fan-out works on a copy of a room's subscriptions made under
// the read lock (copyRoom, copyWorld) and writes the sockets without it,
// skipping the memberships that have ended since (membership.gone).
type subscriptions struct {
	mu    sync.RWMutex
	rooms map[string]*localRoom
	world map[Subscriber]string // attached session -> its world
}

// localRoom is a room as this edge holds it. Its subscription fields are
// guarded by subscriptions.mu; lane and told guard themselves. A record
// dropped from the index (the last session parted, room.delete) may still
// be used by a fan-out or a viewer snapshot that found it before: that
// goes to its former sessions or nowhere.
type localRoom struct {
	subs map[Subscriber]*membership
	// members are the subs as the fan-out copies them, densely (a
	// membership knows its index; a part moves the last one into its
	// place), and dialects counts them by dialect: copyRoom is one copy,
	// without a map walk or a call per session.
	members  []recipient
	dialects [numDialects]int
	users    map[string]int     // user id -> local sessions in the room
	profiles map[string]op.User // user id -> public identity, when known (Enter)
	// viewerSubs counts the subs that see viewer events.
	viewerSubs int

	lane lane        // orders the room's fan-outs
	told toldViewers // for viewer snapshots
}

// membership is a session's subscription to a room.
type membership struct {
	seesViewers bool        // may see viewer events; written under the write lock
	idx         int         // its place in localRoom.members; written under the write lock
	gone        atomic.Bool // set when the subscription ends
}

func newSubscriptions() subscriptions {
	return subscriptions{rooms: map[string]*localRoom{}, world: map[Subscriber]string{}}
}

// attach adds s to the audience of world's events.
func (x *subscriptions) attach(world string, s Subscriber) {
	x.mu.Lock()
	x.world[s] = world
	x.mu.Unlock()
}

// detach removes s from the world and every room; it returns the rooms in
// which s was its user's last local session.
func (x *subscriptions) detach(s Subscriber) (lastIn []string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.world, s)
	for id, r := range x.rooms {
		if r.subs[s] != nil && x.partLocked(id, r, s) {
			lastIn = append(lastIn, id)
		}
	}
	return lastIn
}

// join subscribes s to room with the right to see viewer events or not
// (joining again updates it); u, when not nil, is the user's identity.
func (x *subscriptions) join(room string, s Subscriber, u *op.User, seesViewers bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	r := x.rooms[room]
	if r == nil {
		r = &localRoom{subs: map[Subscriber]*membership{}, users: map[string]int{}, profiles: map[string]op.User{}}
		r.lane.init()
		r.told.init()
		x.rooms[room] = r
	}
	m := r.subs[s]
	if m == nil {
		m = &membership{idx: len(r.members)}
		r.subs[s] = m
		r.users[s.UserID()]++
		d := s.Dialect()
		r.members = append(r.members, recipient{s: s, m: m, d: d})
		r.dialects[d]++
	}
	switch {
	case seesViewers && !m.seesViewers:
		r.viewerSubs++
	case !seesViewers && m.seesViewers:
		r.viewerSubs--
	}
	m.seesViewers = seesViewers
	r.members[m.idx].seesViewers = seesViewers
	if u != nil {
		r.profiles[u.ID] = *u
	}
}

// part unsubscribes s from room; last reports whether s was its user's
// last local session there.
func (x *subscriptions) part(room string, s Subscriber) (last bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	r := x.rooms[room]
	if r == nil || r.subs[s] == nil {
		return false
	}
	return x.partLocked(room, r, s)
}

func (x *subscriptions) partLocked(room string, r *localRoom, s Subscriber) bool {
	m := r.subs[s]
	if m.seesViewers {
		r.viewerSubs--
	}
	m.gone.Store(true)
	delete(r.subs, s)
	last := len(r.members) - 1
	r.dialects[r.members[m.idx].d]--
	if m.idx != last {
		r.members[m.idx] = r.members[last]
		r.members[m.idx].m.idx = m.idx
	}
	r.members[last] = recipient{} // the session is not kept by the array
	r.members = r.members[:last]
	uid := s.UserID()
	r.users[uid]--
	lastOfUser := r.users[uid] <= 0
	if lastOfUser {
		delete(r.users, uid)
		delete(r.profiles, uid)
	}
	if len(r.subs) == 0 {
		delete(x.rooms, room)
	}
	return lastOfUser
}

// drop forgets room's subscriptions (the room was deleted).
func (x *subscriptions) drop(room string) {
	x.mu.Lock()
	delete(x.rooms, room)
	x.mu.Unlock()
}

// room returns room's record, nil when no local session is in it.
func (x *subscriptions) room(room string) *localRoom {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.rooms[room]
}

// rosters returns, per room, the users with local sessions in it.
func (x *subscriptions) rosters() map[string][]string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make(map[string][]string, len(x.rooms))
	for id, r := range x.rooms {
		for uid := range r.users {
			out[id] = append(out[id], uid)
		}
	}
	return out
}

// roomIDs returns the ids of the rooms with local sessions, sorted.
func (x *subscriptions) roomIDs() []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return slices.Sorted(maps.Keys(x.rooms))
}

// roster returns the users with local sessions in room, sorted by id, each
// with the identity it entered with (only the id for sessions that joined
// without one); nil when there are none.
func (x *subscriptions) roster(room string) []op.User {
	x.mu.RLock()
	defer x.mu.RUnlock()
	r := x.rooms[room]
	if r == nil {
		return nil
	}
	out := make([]op.User, 0, len(r.users))
	for uid := range r.users {
		u, ok := r.profiles[uid]
		if !ok {
			u = op.User{ID: uid, Badges: []string{}}
		}
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// seesViewers reports whether a local session of room may see its viewers.
func (x *subscriptions) seesViewers(room string) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	r := x.rooms[room]
	return r != nil && r.viewerSubs > 0
}

// sessions is the number of attached sessions.
func (x *subscriptions) sessions() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.world)
}

// copyRoom picks the events of batch that r's sessions may get — none of
// the viewer events when no session here may see viewers, so that those
// of a big room cost nothing — and, when there are any, appends the
// sessions to ms and marks their dialects in present.
func (x *subscriptions) copyRoom(r *localRoom, batch []*op.Event, ms *[]recipient, present *[numDialects]bool) (evs []*op.Event) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	evs = batch[:0:0]
	for _, ev := range batch {
		if ev.Audience != op.ToRoomViewers || r.viewerSubs > 0 {
			evs = append(evs, ev)
		}
	}
	if len(evs) == 0 {
		return evs
	}
	*ms = append(*ms, r.members...)
	for d, n := range r.dialects {
		present[d] = present[d] || n > 0
	}
	return evs
}

// copyWorld appends the sessions attached to world to ms and marks their
// dialects in present; world "" is every attached session (an owner's
// world.user_count_change, whose publisher does not know the room's world:
// it is personal, and each session drops a room it may not view).
func (x *subscriptions) copyWorld(world string, ms *[]recipient, present *[numDialects]bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for s, w := range x.world {
		if world != "" && w != world {
			continue
		}
		d := s.Dialect()
		*ms = append(*ms, recipient{s: s, d: d})
		present[d] = true
	}
}
