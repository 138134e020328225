package socketio

import (
	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/protocol/payload"
	"github.com/roomring/roomring/node/reaction"
)

// Valu event names the server emits.
const (
	EvUserInfo          = "user_info"
	EvInvalidConnection = "invalidConnection"
	EvReactionUpdated   = "resource:reactionUpdated"
	EvReactionDeleted   = "resource:reactionDeleted"
)

// Status is the "error" object of every Valu reply and event; Status true
// means failure.
type Status struct {
	Status  bool   `json:"status"`
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Reply is Valu's envelope: {"data": ..., "error": {...}}.
type Reply struct {
	Data  any    `json:"data"`
	Error Status `json:"error"`
}

// OK wraps a successful result.
func OK(data any) Reply { return Reply{Data: data} }

// Fail wraps an error; the numeric code is StatusCode's.
func Fail(e *op.Error) Reply {
	return Reply{Error: Status{Status: true, Code: StatusCode(e.Code), Message: e.Message}}
}

// StatusCode maps an error code to Valu's numeric status (400 bad request,
// 401 unauthenticated, 403 denied or over a quota, 404 unknown, 429 rate
// limited, 500 internal, 503 unavailable).
func StatusCode(c op.Code) int {
	switch c {
	case op.CodeUnauthenticated, op.CodeInvalidToken, op.CodeExpiredToken, op.CodeMissingToken:
		return 401
	case op.CodeDenied, op.CodeAuthDenied, op.CodeQuotaExceeded:
		return 403
	case op.CodeRoomUnknown, op.CodeUnknownCommand, op.CodeUnknownResource:
		return 404
	case op.CodeRateLimited:
		return 429
	case op.CodeInternal:
		return 500
	case op.CodeUnavailable:
		return 503
	default:
		return 400
	}
}

// Permissions is room:join's reply, mapped from roomring's room
// permissions (docs/socketio.md):
//
//	view       room:view
//	comment    room:react       (react to the room and its resources)
//	contribute room:announce    (change the room's schedule data)
//	edit       room:update
//	manage     room:update and room:delete
type Permissions struct {
	View       bool `json:"view"`
	Comment    bool `json:"comment"`
	Contribute bool `json:"contribute"`
	Edit       bool `json:"edit"`
	Manage     bool `json:"manage"`
}

// MapPermissions maps roomring permissions onto Valu's.
func MapPermissions(p op.RoomPerms) Permissions {
	return Permissions{View: p.View, Comment: p.React, Contribute: p.Announce, Edit: p.Update, Manage: p.Update && p.Delete}
}

// joinReply is room:join's reply data.
type joinReply struct {
	Permissions Permissions `json:"permissions"`
}

// emptyReply is the {} data of endpoints that answer nothing but success.
type emptyReply struct{}

// resultData shapes an engine result as Valu's reply data.
func resultData(res op.Result) any {
	switch r := res.(type) {
	case op.EnterResult:
		return joinReply{MapPermissions(r.Perms)}
	case op.ResourceReactions:
		return payload.NewReactions(r)
	case op.OwnResourceReaction:
		return payload.OwnReaction{OwnReaction: r.Reaction}
	}
	return emptyReply{}
}

// reactionEvent is the data of resource:reactionUpdated and
// resource:reactionDeleted. Comment is a roomring addition, present when
// the reaction was to a comment.
type reactionEvent struct {
	Room     string `json:"room"`
	Resource string `json:"resource"`
	Comment  string `json:"comment,omitempty"`
	Reaction struct {
		Updated  string     `json:"updated"`
		Reaction string     `json:"reaction"`
		FromUser UserSimple `json:"fromUser"`
	} `json:"reaction"`
}

// EncodePush is the edge encoder of the Socket.IO dialect: it carries the
// resource reaction events as Valu's events and nothing else (Valu clients
// know no viewer, room reaction or world events).
func EncodePush(ev *op.Event) ([]byte, bool) {
	switch d := ev.Data.(type) {
	case op.ResourceReactionUpdated:
		return EncodeEvent(EvReactionUpdated, OK(newReactionEvent(op.ResourceReaction(d)))), true
	case op.ResourceReactionDeleted:
		return EncodeEvent(EvReactionDeleted, OK(newReactionEvent(op.ResourceReaction(d)))), true
	}
	return nil, false
}

// newReactionEvent shapes r as Valu's event data; an incognito user is
// Anonymous.
func newReactionEvent(r op.ResourceReaction) reactionEvent {
	var e reactionEvent
	e.Room, e.Resource, e.Comment = r.Room, r.Resource, r.Comment
	e.Reaction.Updated = r.Updated.UTC().Format(reaction.TimeFormat)
	e.Reaction.Reaction = r.Reaction
	e.Reaction.FromUser = Anonymous()
	if !r.User.Incognito {
		e.Reaction.FromUser = NewUserSimple(r.User.ID, r.User.Profile)
	}
	return e
}
