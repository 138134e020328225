package op

// The event kinds: one payload type each, with the constructor of its
// event, which fixes the kind's audience.

// ViewerAdded is the payload of room.viewer.added.
type ViewerAdded struct{ User User }

// NewViewerAdded tells the room's viewer-seeing sessions, except u's own,
// that u became a viewer.
func NewViewerAdded(room string, u User) *Event {
	return newEvent(room, ToRoomViewers, u.ID, false, ViewerAdded{User: u})
}

// ViewerRemoved is the payload of room.viewer.removed.
type ViewerRemoved struct{ UserID string }

// NewViewerRemoved tells the room's viewer-seeing sessions, except the
// user's own, that userID is no longer a viewer.
func NewViewerRemoved(room, userID string) *Event {
	return newEvent(room, ToRoomViewers, userID, false, ViewerRemoved{UserID: userID})
}

// ViewerSnapshot is the payload of EvViewerSnapshot: the room's visible
// viewers.
type ViewerSnapshot struct{ Users []User }

// NewViewerSnapshot is a new owner's list of the room's visible viewers,
// for the room's edges (never pushed as such).
func NewViewerSnapshot(room string, users []User) *Event {
	return newEvent(room, ToRoomViewers, "", false, ViewerSnapshot{Users: users})
}

// Reaction is the payload of room.reaction: a window's reaction counts.
type Reaction struct {
	Room      string
	Reactions map[string]int
}

// NewReaction tells everyone in the room the counts of a reaction window.
func NewReaction(room string, counts map[string]int) *Event {
	return newEvent(room, ToRoom, "", false, Reaction{Room: room, Reactions: counts})
}

// Schedule is the payload of room.schedule.
type Schedule struct {
	Room         string
	ScheduleData map[string]any
}

// NewSchedule tells everyone in the room its new schedule data.
func NewSchedule(room string, data map[string]any) *Event {
	return newEvent(room, ToRoom, "", false, Schedule{Room: room, ScheduleData: data})
}

// RoomCreated is the payload of room.create. Each session encodes the
// room as it may see it (a personal event).
type RoomCreated struct{ ID string }

// NewRoomCreated tells every session of the world that room was created.
func NewRoomCreated(world, room string) *Event {
	ev := newEvent(room, ToWorld, "", true, RoomCreated{ID: room})
	ev.World = world
	return ev
}

// RoomDeleted is the payload of room.delete.
type RoomDeleted struct{ ID string }

// NewRoomDeleted tells every session of the world that room is gone (the
// edge drops its subscriptions to it).
func NewRoomDeleted(world, room string) *Event {
	ev := newEvent(room, ToWorld, "", false, RoomDeleted{ID: room})
	ev.World = world
	return ev
}

// WorldUpdated is the payload of world.updated. Each session encodes the
// world as it may see it (a personal event).
type WorldUpdated struct{}

// NewWorldUpdated tells every session of the world that its configuration
// changed.
func NewWorldUpdated(world string) *Event {
	ev := newEvent("", ToWorld, "", true, WorldUpdated{})
	ev.World = world
	return ev
}

// Occupancy is how busy a room is, in venueless' three buckets: what
// world.user_count_change and the users field of a room in world.config
// tell.
type Occupancy string

// The buckets, as venueless names them (approximate_view_number).
const (
	OccupancyNone Occupancy = "none" // nobody
	OccupancyFew  Occupancy = "few"  // 1 to 10 users
	OccupancyMany Occupancy = "many" // more than 10 users
)

// OccupancyOf is the bucket of a room with users distinct users present.
func OccupancyOf(users int) Occupancy {
	switch {
	case users < 1:
		return OccupancyNone
	case users > 10:
		return OccupancyMany
	}
	return OccupancyFew
}

// UserCount is the payload of world.user_count_change: room's occupancy
// changed bucket.
type UserCount struct {
	Room  string
	Users Occupancy
}

// NewUserCount tells every session of the world that room's occupancy is
// now users. It is personal: only sessions that may view the room get it,
// as in venueless.
func NewUserCount(room string, users Occupancy) *Event {
	return newEvent(room, ToWorld, "", true, UserCount{Room: room, Users: users})
}

// ResourceReactionUpdated is the payload of resource.reaction.updated.
type ResourceReactionUpdated ResourceReaction

// NewResourceReactionUpdated tells everyone in r.Room that r.User reacted.
func NewResourceReactionUpdated(r ResourceReaction) *Event {
	return newEvent(r.Room, ToRoom, r.User.ID, false, ResourceReactionUpdated(r))
}

// ResourceReactionDeleted is the payload of resource.reaction.deleted.
type ResourceReactionDeleted ResourceReaction

// NewResourceReactionDeleted tells everyone in r.Room that r.User withdrew
// r.Reaction.
func NewResourceReactionDeleted(r ResourceReaction) *Event {
	return newEvent(r.Room, ToRoom, r.User.ID, false, ResourceReactionDeleted(r))
}

// Unknown is the payload of an event kind this node does not know, as a
// peer sent it (JSON in the venueless shape): venueless clients receive it
// verbatim, others not at all. It lets a newer node introduce a kind.
type Unknown struct {
	Kind EventKind
	JSON []byte
}

// EventKind implements Payload.
func (ViewerAdded) EventKind() EventKind { return EvViewerAdded }

// EventKind implements Payload.
func (ViewerRemoved) EventKind() EventKind { return EvViewerRemoved }

// EventKind implements Payload.
func (ViewerSnapshot) EventKind() EventKind { return EvViewerSnapshot }

// EventKind implements Payload.
func (Reaction) EventKind() EventKind { return EvReaction }

// EventKind implements Payload.
func (Schedule) EventKind() EventKind { return EvSchedule }

// EventKind implements Payload.
func (RoomCreated) EventKind() EventKind { return EvRoomCreate }

// EventKind implements Payload.
func (RoomDeleted) EventKind() EventKind { return EvRoomDelete }

// EventKind implements Payload.
func (WorldUpdated) EventKind() EventKind { return EvWorldUpdated }

// EventKind implements Payload.
func (UserCount) EventKind() EventKind { return EvUserCount }

// EventKind implements Payload.
func (ResourceReactionUpdated) EventKind() EventKind { return EvResourceUpdated }

// EventKind implements Payload.
func (ResourceReactionDeleted) EventKind() EventKind { return EvResourceDeleted }

// EventKind implements Payload.
func (u Unknown) EventKind() EventKind { return u.Kind }
