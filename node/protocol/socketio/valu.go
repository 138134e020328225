package socketio

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/engine"
	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/reaction"
)

// Valu event names the server emits.
const (
	EvUserInfo          = "user_info"
	EvInvalidConnection = "invalidConnection"
	EvReactionUpdated   = "resource:reactionUpdated"
	EvReactionDeleted   = "resource:reactionDeleted"
)

// endpoints maps Valu's endpoint names onto the engine's operations; each is
// served by the same engine code as its venueless twin.
var endpoints = map[string]op.Kind{
	"room:join":                   op.RoomEnter,
	"room:leave":                  op.RoomLeave,
	"resource:setReaction":        op.ResourceReactionSet,
	"resource:deleteReaction":     op.ResourceReactionDel,
	"resource:getReactions":       op.ResourceReactionGet,
	"resource:getUserOwnReaction": op.ResourceReactionOwn,
}

// MaxEventIDBytes bounds event.id, which becomes part of an idempotency key.
const MaxEventIDBytes = 128

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

// Fail wraps an error; the numeric code is op.Code.Status.
func Fail(e *op.Error) Reply {
	return Reply{Error: Status{Status: true, Code: e.Code.Status(), Message: e.Message}}
}

// request is the argument of every endpoint: {"data": {...}, "event":
// {"id": string, "date": timestamp}}.
type request struct {
	Data    json.RawMessage
	EventID string
}

func parseRequest(args []json.RawMessage) (request, *op.Error) {
	if len(args) == 0 {
		return request{}, op.Errorf(op.CodeBadRequest, `missing request: emit {"data": {...}, "event": {"id": ..., "date": ...}}`)
	}
	var env struct {
		Data  json.RawMessage `json:"data"`
		Event json.RawMessage `json:"event"`
	}
	if a := bytes.TrimSpace(args[0]); len(a) == 0 || a[0] != '{' || json.Unmarshal(a, &env) != nil {
		return request{}, op.Errorf(op.CodeBadRequest, `the request must be an object {"data": {...}, "event": {...}}`)
	}
	if len(env.Data) == 0 || env.Data[0] != '{' {
		return request{}, op.Errorf(op.CodeBadRequest, "data must be an object")
	}
	r := request{Data: env.Data}
	if len(env.Event) == 0 || string(env.Event) == "null" {
		return r, nil
	}
	var ev struct {
		ID   json.RawMessage `json:"id"`
		Date json.RawMessage `json:"date"`
	}
	if env.Event[0] != '{' || json.Unmarshal(env.Event, &ev) != nil {
		return request{}, op.Errorf(op.CodeBadRequest, "event must be an object {\"id\": string, \"date\": timestamp}")
	}
	if len(ev.ID) > 0 && string(ev.ID) != "null" {
		if json.Unmarshal(ev.ID, &r.EventID) != nil {
			return request{}, op.Errorf(op.CodeBadRequest, "event.id must be a string")
		}
		if len(r.EventID) > MaxEventIDBytes || !utf8.ValidString(r.EventID) {
			return request{}, op.Errorf(op.CodeBadRequest, "event.id must be UTF-8 of at most %d bytes", MaxEventIDBytes)
		}
	}
	if d := ev.Date; len(d) > 0 && d[0] != '"' && (d[0] < '0' || d[0] > '9') && string(d) != "null" {
		return request{}, op.Errorf(op.CodeBadRequest, "event.date must be a timestamp (string or number)")
	}
	return r, nil
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
func MapPermissions(p auth.Perm) Permissions {
	return Permissions{
		View:       p.Has(auth.RoomView),
		Comment:    p.Has(auth.RoomReact),
		Contribute: p.Has(auth.RoomAnnounce),
		Edit:       p.Has(auth.RoomUpdate),
		Manage:     p.Has(auth.RoomUpdate | auth.RoomDelete),
	}
}

// resultData shapes an engine result as Valu's reply data.
func resultData(kind op.Kind, res any) any {
	switch kind {
	case op.RoomEnter:
		if r, ok := res.(engine.EnterResult); ok {
			return struct {
				Permissions Permissions `json:"permissions"`
			}{MapPermissions(r.Perms)}
		}
	}
	return res
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
	var name string
	switch ev.Kind {
	case op.EvResourceUpdated:
		name = EvReactionUpdated
	case op.EvResourceDeleted:
		name = EvReactionDeleted
	default:
		return nil, false
	}
	d, ok := ev.Data.(reaction.Event)
	if !ok {
		return nil, false
	}
	var e reactionEvent
	e.Room, e.Resource, e.Comment = d.Room, d.Resource, d.Comment
	e.Reaction.Updated = d.Updated.UTC().Format(reaction.TimeFormat)
	e.Reaction.Reaction = d.Reaction
	e.Reaction.FromUser = Anonymous()
	if !d.User.Incognito {
		e.Reaction.FromUser = NewUserSimple(d.User.ID, d.User.Profile)
	}
	return EncodeEvent(name, OK(e)), true
}
