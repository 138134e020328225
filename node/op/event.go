package op

import "time"

// EventKind names a server push. Names follow venueless; the Socket.IO codec
// maps the ones Valu clients know onto Valu's event names.
type EventKind string

// Events pushed to clients.
const (
	EvViewerAdded       EventKind = "room.viewer.added"
	EvViewerRemoved     EventKind = "room.viewer.removed"
	EvReaction          EventKind = "room.reaction"
	EvSchedule          EventKind = "room.schedule"
	EvRoomCreate        EventKind = "room.create"
	EvRoomDelete        EventKind = "room.delete"
	EvWorldUpdated      EventKind = "world.updated"
	EvUserCount         EventKind = "world.user_count_change"
	EvResourceUpdated   EventKind = "resource.reaction.updated"
	EvResourceDeleted   EventKind = "resource.reaction.deleted"
	EvConnectionReplace EventKind = "connection.replaced"
)

// EvViewerSnapshot is never pushed to a client: a room's new owner sends it
// to the room's edges once it has rebuilt the viewer set (Data is a
// ViewerSnapshot), and each edge tells its sessions the difference from
// what they were told before — typically the removal of viewers whose node
// died with the previous owner.
const EvViewerSnapshot EventKind = "room.viewer.snapshot"

// Audience says which of an edge's sessions receive an event.
type Audience uint8

const (
	// ToRoom reaches every session subscribed to Event.Room.
	ToRoom Audience = iota
	// ToRoomViewers reaches sessions in Event.Room that hold room:viewers,
	// except the sessions of Event.Subject (nobody is told about themselves).
	ToRoomViewers
	// ToWorld reaches every authenticated session of the node that is a
	// client of Event.World.
	ToWorld
)

// Payload is an event's data: one Go type per event kind (event_types.go).
// Payloads carry no wire shape; each codec encodes them in its own. They
// are values, shared by every session an event reaches: nobody may modify
// one once it is published.
type Payload interface {
	EventKind() EventKind
}

// Event is one push, produced once by the room owner or the catalog and
// encoded at most once per dialect by each edge. Build events with their
// kind's constructor (NewViewerAdded, NewSchedule, …), which sets Kind to
// Data's kind and the audience the kind has.
//
// Personal events (Personal true) carry data that depends on who receives it
// (world.updated, room.create): the edge asks each session to build its own
// payload instead of sharing one encoding.
type Event struct {
	// Kind is Data.EventKind() (when Data is set); the edge routes on it.
	Kind     EventKind
	Room     string
	Audience Audience
	Subject  string // user id the event is about, for ToRoomViewers
	World    string // the world of a ToWorld event; "": every world's (personal events only)
	Personal bool
	Data     Payload
}

func newEvent(room string, aud Audience, subject string, personal bool, p Payload) *Event {
	return &Event{Kind: p.EventKind(), Room: room, Audience: aud, Subject: subject, Personal: personal, Data: p}
}

// User is a user's public identity as other clients see it. Profile holds the
// token's profile claim (compact JSON, shared with the connection's user).
type User struct {
	ID      string
	Profile Profile
	Badges  []string
	// Incognito users (Valu privacyMode 1, and venueless' anonymous
	// invitees, which it never shows publicly) are counted but never
	// identified: no viewer list or viewer event shows them, and codecs
	// must not reveal their id or profile where they show a user who acted.
	Incognito bool
}

// ResourceReaction is what a resource reaction event tells: who (User)
// reacted with Reaction to a resource or one of its comments, and when.
type ResourceReaction struct {
	Room     string
	Resource string
	Comment  string
	Reaction string // the new reaction, or the one deleted
	Updated  time.Time
	// User is who reacted. When User.Incognito, encoders must not reveal
	// the id or the profile.
	User User
}
