// Package edge is the node-local side of rooms: which of this node's sessions
// are in which room, and the fan-out of owner events to them, encoding each
// event at most once per dialect.
package edge

import (
	"runtime"
	"sort"
	"sync"

	"github.com/roomring/roomring/node/op"
)

// Dialect identifies a wire format; it indexes the Edge's encoders.
type Dialect uint8

// Dialects.
const (
	Venueless Dialect = iota
	SocketIO
	numDialects
)

// Subscriber is a session as the edge sees it.
//
// Send and SendPersonal are called with the edge's read lock held, from
// several goroutines at once (a big room's fan-out is split among
// goroutines): they must not block and must not call back into the Edge. Send's frame is shared between sessions and must not be
// modified.
type Subscriber interface {
	UserID() string
	Dialect() Dialect
	Send(frame []byte)
	SendPersonal(ev *op.Event)
}

// Encoder encodes an event for one dialect; ok false means the dialect does
// not carry this event.
type Encoder func(ev *op.Event) (frame []byte, ok bool)

// Edge tracks local room membership. It is safe for concurrent use.
type Edge struct {
	id       string
	encoders [numDialects]Encoder

	mu    sync.RWMutex
	rooms map[string]*local
	world map[Subscriber]struct{}
}

type local struct {
	subs     map[Subscriber]bool // value: may see viewer events
	users    map[string]int      // user id -> local sessions in the room
	profiles map[string]op.User  // user id -> public identity, when known (Enter)
	// seen is the room's viewers as this edge's sessions were told of them
	// (enter replies, viewer events), for viewer snapshots.
	seen map[string]struct{}
	// viewerSubs counts the subs that see viewer events.
	viewerSubs int
}

// New returns an Edge named id (the node's name in the cluster).
func New(id string) *Edge {
	return &Edge{id: id, rooms: map[string]*local{}, world: map[Subscriber]struct{}{}}
}

// ID is the edge's name.
func (e *Edge) ID() string { return e.id }

// SetEncoder installs the encoder of a dialect. Call before serving.
func (e *Edge) SetEncoder(d Dialect, enc Encoder) { e.encoders[d] = enc }

// Attach registers an authenticated session for world-wide events.
func (e *Edge) Attach(s Subscriber) {
	e.mu.Lock()
	e.world[s] = struct{}{}
	e.mu.Unlock()
}

// Detach removes s from the world and every room. It returns the rooms in
// which s was its user's last local session.
func (e *Edge) Detach(s Subscriber) (lastIn []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.world, s)
	for id, l := range e.rooms {
		if _, ok := l.subs[s]; ok && e.partLocked(id, l, s) {
			lastIn = append(lastIn, id)
		}
	}
	return lastIn
}

// Join subscribes s to room; seesViewers says whether s receives viewer
// events. Joining again updates seesViewers.
func (e *Edge) Join(room string, s Subscriber, seesViewers bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.joinLocked(room, s, seesViewers)
}

// Enter is Join for a session whose user becomes a viewer of the room: the
// edge also keeps the user's public identity, which Roster reports to a new
// owner of the room.
func (e *Edge) Enter(room string, s Subscriber, u op.User, seesViewers bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.joinLocked(room, s, seesViewers).profiles[u.ID] = u
}

func (e *Edge) joinLocked(room string, s Subscriber, seesViewers bool) *local {
	l := e.rooms[room]
	if l == nil {
		l = &local{subs: map[Subscriber]bool{}, users: map[string]int{}, profiles: map[string]op.User{}, seen: map[string]struct{}{}}
		e.rooms[room] = l
	}
	was, ok := l.subs[s]
	if !ok {
		l.users[s.UserID()]++
	}
	switch {
	case seesViewers && (!ok || !was):
		l.viewerSubs++
	case !seesViewers && ok && was:
		l.viewerSubs--
	}
	l.subs[s] = seesViewers
	return l
}

// Part unsubscribes s from room and reports whether s was its user's last
// local session there (the owner must then be told the user left through
// this edge).
func (e *Edge) Part(room string, s Subscriber) (last bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.rooms[room]
	if l == nil {
		return false
	}
	if _, ok := l.subs[s]; !ok {
		return false
	}
	return e.partLocked(room, l, s)
}

func (e *Edge) partLocked(room string, l *local, s Subscriber) bool {
	if l.subs[s] {
		l.viewerSubs--
	}
	delete(l.subs, s)
	uid := s.UserID()
	l.users[uid]--
	last := l.users[uid] <= 0
	if last {
		delete(l.users, uid)
		delete(l.profiles, uid)
	}
	if len(l.subs) == 0 {
		delete(e.rooms, room)
	}
	return last
}

// Members returns, per room, the users with local sessions in it; a new
// owner rebuilds its viewer set from these announcements.
func (e *Edge) Members() map[string][]string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make(map[string][]string, len(e.rooms))
	for id, l := range e.rooms {
		for uid := range l.users {
			out[id] = append(out[id], uid)
		}
	}
	return out
}

// Rooms returns the ids of the rooms with local sessions, sorted.
func (e *Edge) Rooms() []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]string, 0, len(e.rooms))
	for id := range e.rooms {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Roster returns the users with local sessions in room, sorted by id, each
// with the identity it entered with (only the id for sessions that joined
// without one).
func (e *Edge) Roster(room string) []op.User {
	e.mu.RLock()
	defer e.mu.RUnlock()
	l := e.rooms[room]
	if l == nil {
		return nil
	}
	out := make([]op.User, 0, len(l.users))
	for uid := range l.users {
		u, ok := l.profiles[uid]
		if !ok {
			u = op.User{ID: uid, Profile: map[string]any{}, Badges: []string{}}
		}
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Saw records that the room's viewers include users, as an owner's reply
// to an enter told a local session.
func (e *Edge) Saw(room string, users []op.User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if l := e.rooms[room]; l != nil {
		for _, u := range users {
			l.seen[u.ID] = struct{}{}
		}
	}
}

// snapshot turns an owner's viewer snapshot into the viewer events this
// edge's sessions missed: removals of viewers they were told of that are
// gone, additions of viewers they were not told of.
func (e *Edge) snapshot(ev *op.Event) []*op.Event {
	snap, ok := ev.Data.(op.ViewerSnapshot)
	if !ok {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.rooms[ev.Room]
	if l == nil {
		return nil
	}
	now := make(map[string]struct{}, len(snap.Users))
	var out []*op.Event
	for _, u := range snap.Users {
		now[u.ID] = struct{}{}
		if _, ok := l.seen[u.ID]; !ok {
			out = append(out, &op.Event{Kind: op.EvViewerAdded, Room: ev.Room, Audience: op.ToRoomViewers,
				Subject: u.ID, Data: op.ViewerAdded{User: u}})
		}
	}
	for uid := range l.seen {
		if _, ok := now[uid]; !ok {
			out = append(out, &op.Event{Kind: op.EvViewerRemoved, Room: ev.Room, Audience: op.ToRoomViewers,
				Subject: uid, Data: op.ViewerRemoved{UserID: uid}})
		}
	}
	l.seen = now
	return out
}

// Sessions is the number of attached sessions.
func (e *Edge) Sessions() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.world)
}

// Deliver fans ev out to the local sessions of its audience. A room.delete
// event also drops the room's local subscriptions; a viewer snapshot is
// delivered as the viewer events it implies.
func (e *Edge) Deliver(ev *op.Event) {
	switch ev.Kind {
	case op.EvViewerSnapshot:
		for _, d := range e.snapshot(ev) {
			e.Deliver(d)
		}
		return
	case op.EvViewerAdded, op.EvViewerRemoved:
		e.mu.Lock()
		if l := e.rooms[ev.Room]; l != nil {
			if ev.Kind == op.EvViewerAdded {
				l.seen[ev.Subject] = struct{}{}
			} else {
				delete(l.seen, ev.Subject)
			}
		}
		e.mu.Unlock()
	}
	e.deliverLocked(ev)
	if ev.Audience == op.ToWorld && ev.Kind == op.EvRoomDelete {
		e.mu.Lock()
		delete(e.rooms, ev.Room)
		e.mu.Unlock()
	}
}

// deliverLocked fans ev out to its audience under the read lock.
func (e *Edge) deliverLocked(ev *op.Event) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	subs := fanouts.Get().(*[]Subscriber)
	defer func() { clear(*subs); *subs = (*subs)[:0]; fanouts.Put(subs) }()
	if ev.Audience == op.ToWorld {
		for s := range e.world {
			*subs = append(*subs, s)
		}
	} else if l := e.rooms[ev.Room]; l != nil && (ev.Audience != op.ToRoomViewers || l.viewerSubs > 0) {
		// (viewer events of a big room nobody here may see cost nothing)
		for s, seesViewers := range l.subs {
			if ev.Audience == op.ToRoomViewers && (!seesViewers || s.UserID() == ev.Subject) {
				continue
			}
			*subs = append(*subs, s)
		}
	}
	e.fanOut(ev, *subs)
}

// fanoutChunk is the least number of sessions a fan-out goroutine serves:
// a broadcast to more than twice as many is written to the sockets by
// several goroutines at once (up to GOMAXPROCS), since each delivery is a
// system call.
const fanoutChunk = 1024

var fanouts = sync.Pool{New: func() any { s := make([]Subscriber, 0, 64); return &s }}

// fanOut sends ev to subs, encoding it once per dialect among them, and
// returns when every session has it: two events fanned out one after the
// other reach each session in that order.
func (e *Edge) fanOut(ev *op.Event, subs []Subscriber) {
	if len(subs) == 0 {
		return
	}
	var frames [numDialects][]byte
	if !ev.Personal {
		var present [numDialects]bool
		for _, s := range subs {
			present[s.Dialect()] = true
		}
		for d, enc := range e.encoders {
			if present[d] && enc != nil {
				if f, ok := enc(ev); ok {
					frames[d] = f
				}
			}
		}
	}
	send := func(part []Subscriber) {
		for _, s := range part {
			if ev.Personal {
				s.SendPersonal(ev)
			} else if f := frames[s.Dialect()]; f != nil {
				s.Send(f)
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(subs)/fanoutChunk)
	if workers < 2 {
		send(subs)
		return
	}
	var wg sync.WaitGroup
	per := (len(subs) + workers - 1) / workers
	for len(subs) > per {
		part := subs[:per]
		subs = subs[per:]
		wg.Go(func() { send(part) })
	}
	send(subs)
	wg.Wait()
}
