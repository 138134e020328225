package op

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

// ViewerSnapshot is the payload of EvViewerSnapshot: the room's visible
// viewers.
type ViewerSnapshot struct {
	Users []User `json:"users"`
}

// Audience says which of an edge's sessions receive an event.
type Audience uint8

const (
	// ToRoom reaches every session subscribed to Event.Room.
	ToRoom Audience = iota
	// ToRoomViewers reaches sessions in Event.Room that hold room:viewers,
	// except the sessions of Event.Subject (nobody is told about themselves).
	ToRoomViewers
	// ToWorld reaches every authenticated session of the node.
	ToWorld
)

// Event is one push, produced once by the room owner or the catalog and
// encoded at most once per dialect by each edge.
//
// Personal events (Personal true) carry data that depends on who receives it
// (world.updated, room.create): the edge asks each session to build its own
// payload instead of sharing one encoding.
type Event struct {
	Kind     EventKind
	Room     string
	Audience Audience
	Subject  string // user id the event is about, for ToRoomViewers
	Personal bool
	Data     any // JSON-encodable payload in venueless shape
}

// User is a user's public identity as other clients see it. Profile holds the
// token's profile claim verbatim.
type User struct {
	ID      string         `json:"id"`
	Profile map[string]any `json:"profile"`
	Badges  []string       `json:"badges"`
	// Incognito users (Valu privacyMode 1) are counted but never identified.
	Incognito bool `json:"-"`
}

// ViewerAdded is the payload of room.viewer.added.
type ViewerAdded struct {
	User User `json:"user"`
}

// ViewerRemoved is the payload of room.viewer.removed.
type ViewerRemoved struct {
	UserID string `json:"user_id"`
}

// Reaction is the payload of room.reaction.
type Reaction struct {
	Room      string         `json:"room"`
	Reactions map[string]int `json:"reactions"`
}

// Schedule is the payload of room.schedule.
type Schedule struct {
	Room         string         `json:"room"`
	ScheduleData map[string]any `json:"schedule_data"`
}

// RoomDeleted is the payload of room.delete.
type RoomDeleted struct {
	ID string `json:"id"`
}
