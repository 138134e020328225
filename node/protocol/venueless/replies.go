package venueless

import (
	"encoding/json"

	"github.com/roomring/roomring/node/engine"
	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/protocol/payload"
)

// The reply shapes of the Rooms API, one per result type.

// enterReply is room.enter's reply: {"viewers": [...]} or {} for a client
// that may not see the room's viewers.
type enterReply struct {
	Viewers []user `json:"viewers"`
}

// createReply is room.create's reply.
type createReply struct {
	Room    string  `json:"room"`
	Channel *string `json:"channel"`
}

// inviteReply is room.invite.anonymous.link's reply.
type inviteReply struct {
	URL string `json:"url"`
}

// emptyReply is the {} of operations that answer nothing but success.
type emptyReply struct{}

// replyData shapes a result as its success reply's data. Rooms are sent as
// the catalog writes them (catalog.Room's own JSON is venueless'
// get_room_config shape).
func replyData(res op.Result) any {
	switch r := res.(type) {
	case op.EnterResult:
		if r.Viewers == nil {
			return emptyReply{}
		}
		return enterReply{Viewers: newUsers(r.Viewers)}
	case op.CreateRoomResult:
		return createReply{Room: r.Room}
	case op.InviteLinkResult:
		return inviteReply{URL: r.URL}
	case op.ResourceReactions:
		return payload.NewReactions(r)
	case op.OwnResourceReaction:
		return payload.OwnReaction{OwnReaction: r.Reaction}
	case engine.RoomConfigResult:
		return r.Room
	case engine.RoomConfigsResult:
		return r.Rooms
	}
	return emptyReply{}
}

// Reply encodes the success reply of res.
func Reply(id json.RawMessage, res op.Result) []byte { return Success(id, replyData(res)) }
