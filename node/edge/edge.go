// Package edge is the node-local side of rooms: which of this node's sessions
// are in which room, and the fan-out of owner events to them, encoding each
// event at most once per dialect.
//
// Edge is the facade the rest of the node calls. Behind it:
// subscriptions (subscriptions.go) indexes the sessions by room with their
// rights; each room's lane (lane.go) queues its events in order and hands
// them to one fan-out at a time; each room's toldViewers (snapshot.go)
// remembers what its sessions were told of its viewers, to turn an owner's
// viewer snapshot into the events they missed; fanout.go encodes and
// writes.
package edge

import (
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
// once (a big room's fan-out is split among goroutines), never with a lock
// of the edge held: they must not block and must not call back into the
// Edge. Send's frame is shared between sessions and must not be modified.
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

// Edge tracks local room membership and fans events out to it. It is safe
// for concurrent use; it has no lock of its own (its parts have theirs).
type Edge struct {
	id       string
	encoders [numDialects]Encoder // set before serving, read-only after
	subs     subscriptions
	// world queues the world events of Post, in order (Deliver fans world
	// events out at once).
	world lane
	occ   occupancies
}

// New returns an Edge named id (the node's name in the cluster).
func New(id string) *Edge {
	e := &Edge{id: id, subs: newSubscriptions()}
	e.world.init()
	return e
}

// ID is the edge's name.
func (e *Edge) ID() string { return e.id }

// SetEncoder installs the encoder of a dialect. Call before serving.
func (e *Edge) SetEncoder(d Dialect, enc Encoder) { e.encoders[d] = enc }

// Attach registers an authenticated session of world for that world's
// events.
func (e *Edge) Attach(world string, s Subscriber) { e.subs.attach(world, s) }

// Detach removes s from the world and every room. It returns the rooms in
// which s was its user's last local session.
func (e *Edge) Detach(s Subscriber) (lastIn []string) { return e.subs.detach(s) }

// Join subscribes s to room; seesViewers says whether s receives viewer
// events. Joining again updates seesViewers.
func (e *Edge) Join(room string, s Subscriber, seesViewers bool) {
	e.subs.join(room, s, nil, seesViewers)
}

// Enter is Join for a session whose user becomes a viewer of the room: the
// edge also keeps the user's public identity, which Roster reports to a new
// owner of the room.
func (e *Edge) Enter(room string, s Subscriber, u op.User, seesViewers bool) {
	e.subs.join(room, s, &u, seesViewers)
}

// Part unsubscribes s from room and reports whether s was its user's last
// local session there (the owner must then be told the user left through
// this edge).
func (e *Edge) Part(room string, s Subscriber) (last bool) { return e.subs.part(room, s) }

// Rosters returns, per room, the users with local sessions in it; a new
// owner rebuilds its viewer set from these announcements.
func (e *Edge) Rosters() map[string][]string { return e.subs.rosters() }

// Rooms returns the ids of the rooms with local sessions, sorted.
func (e *Edge) Rooms() []string { return e.subs.roomIDs() }

// Roster returns the users with local sessions in room, sorted by id, each
// with the identity it entered with (only the id for sessions that joined
// without one).
func (e *Edge) Roster(room string) []op.User { return e.subs.roster(room) }

// SeesViewers reports whether a local session of room may see its
// viewers.
func (e *Edge) SeesViewers(room string) bool { return e.subs.seesViewers(room) }

// Sessions is the number of attached sessions.
func (e *Edge) Sessions() int { return e.subs.sessions() }

// Saw records that the room's viewers include users, as an owner's reply
// to an enter told a local session. Incognito users are skipped: an
// owner's snapshot never lists them (an enter's reply lists the entering
// user even when incognito).
func (e *Edge) Saw(room string, users []op.User) {
	if r := e.subs.room(room); r != nil {
		r.told.saw(users)
	}
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
// lane is idle, a goroutine of its own runs it. World events posted go
// through the edge's world lane the same way, in the order posted.
func (e *Edge) Post(ev *op.Event) { e.deliver(ev, false) }

func (e *Edge) deliver(ev *op.Event, wait bool) {
	if ev.Kind == op.EvViewerSnapshot {
		e.snapshot(ev, wait)
		return
	}
	if ev.Audience == op.ToWorld {
		switch d := ev.Data.(type) {
		case op.UserCount:
			e.occ.set(d.Room, d.Users)
		case op.RoomDeleted:
			e.occ.set(d.ID, op.OccupancyNone)
		}
		switch {
		case wait:
			e.fanOutWorld(ev)
		case e.world.add(ev):
			go e.world.drain(func(batch []*op.Event) {
				for _, ev := range batch {
					e.fanOutWorld(ev)
				}
			})
		}
		if ev.Kind == op.EvRoomDelete {
			e.subs.drop(ev.Room)
		}
		return
	}
	r := e.subs.room(ev.Room)
	if r == nil {
		return // nobody here
	}
	if ev.Kind == op.EvViewerAdded || ev.Kind == op.EvViewerRemoved {
		r.told.told(ev)
	}
	if !r.lane.add(ev) {
		return // the lane's runner takes it
	}
	if wait {
		e.runLane(r)
	} else {
		go e.runLane(r)
	}
}

// snapshot delivers an owner's viewer snapshot as the viewer events the
// room's local sessions missed.
func (e *Edge) snapshot(ev *op.Event, wait bool) {
	snap, ok := ev.Data.(op.ViewerSnapshot)
	if !ok {
		return
	}
	if r := e.subs.room(ev.Room); r != nil {
		for _, d := range r.told.missed(ev.Room, snap) {
			e.deliver(d, wait)
		}
	}
}

// runLane is the runner of r's lane: it fans the room's queued events out
// until the lane is empty.
func (e *Edge) runLane(r *localRoom) {
	r.lane.drain(func(batch []*op.Event) { e.fanOutRoom(r, batch) })
}
