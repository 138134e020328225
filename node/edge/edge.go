// Package edge is the node-local side of rooms: which of this node's sessions
// are in which room, and the fan-out of owner events to them, encoding each
// event at most once per dialect.
package edge

import (
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

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
// Send, SendFrames and SendPersonal are called from several goroutines at
// once (a big room's fan-out is split among goroutines), sometimes with the
// edge's read lock held: they must not block and must not call back into
// the Edge. Send's frame is shared between sessions and must not be
// modified.
type Subscriber interface {
	UserID() string
	Dialect() Dialect
	Send(frame []byte)
	// SendFrames sends frames in order, like as many Sends; it must not
	// keep the slice.
	SendFrames(frames [][]byte)
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
	subs     map[Subscriber]*membership
	users    map[string]int     // user id -> local sessions in the room
	profiles map[string]op.User // user id -> public identity, when known (Enter)
	// viewerSubs counts the subs that see viewer events.
	viewerSubs int
	// lane orders the room's fan-outs (Deliver, Post).
	lane lane

	// seen is the room's viewers as this edge's sessions were told of them
	// (enter replies, viewer events), for viewer snapshots. seenMu guards
	// it, under either of the edge's locks.
	seenMu sync.Mutex
	seen   map[string]struct{}
}

// membership is a session's subscription to a room. A fan-out works on a
// copy of the room's subscriptions made under the read lock and skips
// those that have ended since.
type membership struct {
	seesViewers bool // may see viewer events; written under the write lock
	gone        atomic.Bool
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
		if l.subs[s] != nil && e.partLocked(id, l, s) {
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
		l = &local{subs: map[Subscriber]*membership{}, users: map[string]int{}, profiles: map[string]op.User{}, seen: map[string]struct{}{}}
		l.lane.space.L = &l.lane.mu
		e.rooms[room] = l
	}
	m := l.subs[s]
	if m == nil {
		m = &membership{}
		l.subs[s] = m
		l.users[s.UserID()]++
	}
	switch {
	case seesViewers && !m.seesViewers:
		l.viewerSubs++
	case !seesViewers && m.seesViewers:
		l.viewerSubs--
	}
	m.seesViewers = seesViewers
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
	if l.subs[s] == nil {
		return false
	}
	return e.partLocked(room, l, s)
}

func (e *Edge) partLocked(room string, l *local, s Subscriber) bool {
	m := l.subs[s]
	if m.seesViewers {
		l.viewerSubs--
	}
	m.gone.Store(true)
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

// SeesViewers reports whether a local session of room may see its
// viewers.
func (e *Edge) SeesViewers(room string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	l := e.rooms[room]
	return l != nil && l.viewerSubs > 0
}

// Saw records that the room's viewers include users, as an owner's reply
// to an enter told a local session. Incognito users are skipped: an
// owner's snapshot never lists them (an enter's reply lists the entering
// user even when incognito).
func (e *Edge) Saw(room string, users []op.User) {
	if len(users) == 0 {
		return
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if l := e.rooms[room]; l != nil {
		l.seenMu.Lock()
		for _, u := range users {
			if !u.Incognito {
				l.seen[u.ID] = struct{}{}
			}
		}
		l.seenMu.Unlock()
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
	e.mu.RLock()
	defer e.mu.RUnlock()
	l := e.rooms[ev.Room]
	if l == nil {
		return nil
	}
	l.seenMu.Lock()
	defer l.seenMu.Unlock()
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
//
// A room's events go out through the room's lane, one batch at a time and
// in the order they were delivered: an event delivered while a fan-out of
// the room runs is taken by that fan-out's runner once it is done, with
// every other event that arrived meanwhile, and a session gets the whole
// batch with one write. Under load a broadcast thus costs fewer than one
// system call per session. When the lane is idle, Deliver fans ev out
// itself and returns when every session has it. World events go out at
// once.
func (e *Edge) Deliver(ev *op.Event) { e.deliver(ev, true) }

// Post is Deliver for callers that must not wait for a fan-out — an owner
// publishing under its room's lock, a peer link's reader: when the room's
// lane is idle, a goroutine of its own runs it.
func (e *Edge) Post(ev *op.Event) { e.deliver(ev, false) }

func (e *Edge) deliver(ev *op.Event, wait bool) {
	switch ev.Kind {
	case op.EvViewerSnapshot:
		for _, d := range e.snapshot(ev) {
			e.deliver(d, wait)
		}
		return
	case op.EvViewerAdded, op.EvViewerRemoved:
		e.mu.RLock()
		if l := e.rooms[ev.Room]; l != nil {
			l.seenMu.Lock()
			if ev.Kind == op.EvViewerAdded {
				l.seen[ev.Subject] = struct{}{}
			} else {
				delete(l.seen, ev.Subject)
			}
			l.seenMu.Unlock()
		}
		e.mu.RUnlock()
	}
	if ev.Audience == op.ToWorld {
		e.deliverWorld(ev)
		if ev.Kind == op.EvRoomDelete {
			e.mu.Lock()
			delete(e.rooms, ev.Room)
			e.mu.Unlock()
		}
		return
	}
	e.mu.RLock()
	l := e.rooms[ev.Room]
	e.mu.RUnlock()
	if l == nil || !l.lane.add(ev) {
		return // nobody here, or the lane's runner takes it
	}
	if wait {
		e.runLane(l)
	} else {
		go e.runLane(l)
	}
}

// runLane fans the room's queued events out until its lane is empty.
func (e *Edge) runLane(l *local) {
	for batch := l.lane.next(nil); batch != nil; batch = l.lane.next(batch) {
		e.fanOutRoom(l, batch)
	}
}

// laneMax bounds the events a room's lane holds: a caller of Deliver waits
// while it is full. laneBatch is the most events one fan-out takes.
const (
	laneMax   = 4096
	laneBatch = 64
)

// lane orders a room's fan-outs and gathers the events that arrive while
// one runs. Its caller that finds it idle runs it until it is empty.
type lane struct {
	mu      sync.Mutex
	space   sync.Cond // on mu (set when the room's local is made); signalled when events are taken
	pending []*op.Event
	spare   []*op.Event
	running bool
}

// add queues ev, waiting while the lane is full; true means the caller
// runs the lane (it was idle).
func (ln *lane) add(ev *op.Event) bool {
	ln.mu.Lock()
	defer ln.mu.Unlock()
	for ln.running && len(ln.pending) >= laneMax {
		ln.space.Wait()
	}
	ln.pending = append(ln.pending, ev)
	if ln.running {
		return false
	}
	ln.running = true
	return true
}

// next gives back a batch that has gone out and takes the next one, up to
// laneBatch events; nil means the lane is empty and idle again.
func (ln *lane) next(done []*op.Event) []*op.Event {
	ln.mu.Lock()
	defer ln.mu.Unlock()
	if done != nil {
		clear(done)
		ln.spare = done[:0]
	}
	if len(ln.pending) == 0 {
		ln.running = false
		return nil
	}
	n := min(len(ln.pending), laneBatch)
	batch := append(ln.spare, ln.pending[:n]...)
	ln.spare = nil
	rest := copy(ln.pending, ln.pending[n:])
	clear(ln.pending[rest:])
	ln.pending = ln.pending[:rest]
	ln.space.Broadcast()
	return batch
}

// member is a session being fanned out to.
type member struct {
	s           Subscriber
	seesViewers bool
	m           *membership // nil for world events
}

// fanOutRoom sends a batch of the room's events to its local sessions:
// each event encoded once per dialect, each session's share of the batch
// in one SendFrames, in order. The sessions are those subscribed when the
// batch is taken, less those that part meanwhile; the edge is not locked
// while the sockets are written.
func (e *Edge) fanOutRoom(l *local, batch []*op.Event) {
	ms := getMembers()
	defer putMembers(ms)
	var present [numDialects]bool
	e.mu.RLock()
	// Viewer events of a big room nobody here may see cost nothing.
	evs := batch[:0:0]
	for _, ev := range batch {
		if ev.Audience != op.ToRoomViewers || l.viewerSubs > 0 {
			evs = append(evs, ev)
		}
	}
	if len(evs) > 0 {
		for s, m := range l.subs {
			*ms = append(*ms, member{s: s, seesViewers: m.seesViewers, m: m})
			present[s.Dialect()] = true
		}
	}
	e.mu.RUnlock()
	if len(*ms) == 0 {
		return
	}
	frames := make([][numDialects][]byte, len(evs))
	for i, ev := range evs {
		frames[i] = e.encode(ev, &present)
	}
	parallel(*ms, func(part []member) {
		out := make([][]byte, 0, len(evs))
		for _, m := range part {
			if m.m.gone.Load() {
				continue
			}
			out = out[:0]
			d := m.s.Dialect()
			for i, ev := range evs {
				if ev.Audience == op.ToRoomViewers && (!m.seesViewers || m.s.UserID() == ev.Subject) {
					continue
				}
				if ev.Personal {
					send(m.s, out)
					out = out[:0]
					m.s.SendPersonal(ev)
				} else if f := frames[i][d]; f != nil {
					out = append(out, f)
				}
			}
			send(m.s, out)
		}
	})
}

// encode encodes ev once for each dialect present (none for a personal
// event: each session encodes its own).
func (e *Edge) encode(ev *op.Event, present *[numDialects]bool) (frames [numDialects][]byte) {
	if ev.Personal {
		return frames
	}
	for d, enc := range e.encoders {
		if present[d] && enc != nil {
			if f, ok := enc(ev); ok {
				frames[d] = f
			}
		}
	}
	return frames
}

// send hands a session its frames of a batch.
func send(s Subscriber, frames [][]byte) {
	switch len(frames) {
	case 0:
	case 1:
		s.Send(frames[0])
	default:
		s.SendFrames(frames)
	}
}

// deliverWorld fans a world event out to every attached session (those
// attached when it starts; the edge is not locked while it writes).
func (e *Edge) deliverWorld(ev *op.Event) {
	ms := getMembers()
	defer putMembers(ms)
	var present [numDialects]bool
	e.mu.RLock()
	for s := range e.world {
		*ms = append(*ms, member{s: s})
		present[s.Dialect()] = true
	}
	e.mu.RUnlock()
	if len(*ms) == 0 {
		return
	}
	frames := e.encode(ev, &present)
	parallel(*ms, func(part []member) {
		for _, m := range part {
			if ev.Personal {
				m.s.SendPersonal(ev)
			} else if f := frames[m.s.Dialect()]; f != nil {
				m.s.Send(f)
			}
		}
	})
}

// fanoutChunk is the least number of sessions a fan-out goroutine serves:
// a fan-out to more than twice as many is written to the sockets by
// several goroutines at once (up to GOMAXPROCS), since each delivery is a
// system call.
const fanoutChunk = 1024

// members recycles the copies of subscriptions fan-outs work on.
var members = sync.Pool{New: func() any { s := make([]member, 0, 64); return &s }}

func getMembers() *[]member { return members.Get().(*[]member) }

func putMembers(ms *[]member) {
	clear(*ms)
	*ms = (*ms)[:0]
	members.Put(ms)
}

// parallel runs fn over ms, split among goroutines when ms is big, and
// returns when every part is done.
func parallel(ms []member, fn func([]member)) {
	workers := min(runtime.GOMAXPROCS(0), len(ms)/fanoutChunk)
	if workers < 2 {
		fn(ms)
		return
	}
	var wg sync.WaitGroup
	per := (len(ms) + workers - 1) / workers
	for len(ms) > per {
		part := ms[:per]
		ms = ms[per:]
		wg.Go(func() { fn(part) })
	}
	fn(ms)
	wg.Wait()
}
