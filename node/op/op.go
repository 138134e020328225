// Package op defines the dialect-neutral operations, results, events and errors
// that every wire codec decodes into and encodes from.
//
// A codec (venueless JSON arrays, Socket.IO) turns a client frame into a Request,
// the dispatcher executes it, and the codec turns the Result or Error back into
// the dialect's own reply. Events flow the other way: the room owner and the
// catalog produce Events, each edge encodes them once per dialect and fans them
// out. Nothing in this package knows about sockets or wire formats.
package op

import "encoding/json"

// Kind names an operation. The names follow the venueless action names; the
// Socket.IO codec maps Valu's endpoint names onto the same kinds.
type Kind string

// Operations a client may request.
const (
	Ping                Kind = "ping"
	Authenticate        Kind = "authenticate"
	RoomEnter           Kind = "room.enter"
	RoomLeave           Kind = "room.leave"
	RoomReact           Kind = "room.react"
	RoomDelete          Kind = "room.delete"
	RoomCreate          Kind = "room.create"
	RoomSchedule        Kind = "room.schedule"
	RoomConfigGet       Kind = "room.config.get"
	RoomConfigPatch     Kind = "room.config.patch"
	RoomConfigList      Kind = "room.config.list"
	RoomConfigReorder   Kind = "room.config.reorder"
	RoomInviteAnonymous Kind = "room.invite.anonymous.link"
	ResourceReactionSet Kind = "resource.reaction.set"
	ResourceReactionDel Kind = "resource.reaction.delete"
	ResourceReactionGet Kind = "resource.reaction.get"
	ResourceReactionOwn Kind = "resource.reaction.own"
	RoomJoin            Kind = "room.join" // Valu's room:join: subscribe without becoming a viewer of record
	RoomPart            Kind = "room.part" // Valu's room:leave
)

// Request is one decoded client operation. Body holds the operation's payload
// as sent (a JSON object or, for reorder, a JSON array); the dispatcher decodes
// it into the operation's own type so both dialects share one validation.
type Request struct {
	Kind Kind
	Body json.RawMessage
}
