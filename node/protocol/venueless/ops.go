package venueless

import (
	"encoding/json"

	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/protocol/payload"
)

// Actions the codec handles itself rather than the engine.
const (
	actionPing         = "ping"
	actionAuthenticate = "authenticate"
)

// action is one engine action of the Rooms API: its name and how its
// payload decodes into an operation.
type action struct {
	name   string
	decode func(body []byte) op.Operation
}

// actions maps each engine action to its decoder. The payload types below
// carry venueless' field names.
var actions = byName(
	action{"room.enter", decodeRoom(op.KindEnter, func(r string) op.Operation { return op.Enter{Room: r} })},
	action{"room.leave", decodeRoom(op.KindLeave, func(r string) op.Operation { return op.Leave{Room: r} })},
	action{"room.react", decodeAs[reactPayload](op.KindReact)},
	action{"room.schedule", decodeAs[schedulePayload](op.KindSetSchedule)},
	action{"room.delete", decodeRoom(op.KindDeleteRoom, func(r string) op.Operation { return op.DeleteRoom{Room: r} })},
	action{"room.create", decodeAs[createPayload](op.KindCreateRoom)},
	action{"room.config.get", decodeRoom(op.KindGetRoomConfig, func(r string) op.Operation { return op.GetRoomConfig{Room: r} })},
	action{"room.config.patch", decodePatch},
	action{"room.config.list", func([]byte) op.Operation { return op.ListRoomConfigs{} }},
	action{"room.config.reorder", decodeAs[reorderPayload](op.KindReorderRooms)},
	action{"room.invite.anonymous.link", decodeRoom(op.KindInviteLink, func(r string) op.Operation { return op.InviteLink{Room: r} })},
	action{"resource.reaction.set", decodeAs[payload.ResourceSet](op.KindSetResourceReaction)},
	action{"resource.reaction.delete", decodeAs[payload.ResourceDelete](op.KindDeleteResourceReaction)},
	action{"resource.reaction.get", decodeAs[payload.ResourceGet](op.KindGetResourceReactions)},
	action{"resource.reaction.own", decodeAs[payload.ResourceOwn](op.KindGetOwnResourceReaction)},
)

func byName(list ...action) map[string]action {
	m := make(map[string]action, len(list))
	for _, a := range list {
		m[a.name] = a
	}
	return m
}

// operation is a payload type that becomes an operation once decoded.
type operation interface {
	Operation() op.Operation
}

// decodeAs decodes a payload into P, or into op.Invalid.
func decodeAs[P operation](kind op.Kind) func([]byte) op.Operation {
	return func(b []byte) op.Operation {
		var p P
		if err := payload.Decode(b, &p); err != nil {
			return op.Invalid{Op: kind, Err: err}
		}
		return p.Operation()
	}
}

// roomPayload is the payload of the actions that name a room only.
type roomPayload struct {
	Room string `json:"room"`
}

func decodeRoom(kind op.Kind, mk func(room string) op.Operation) func([]byte) op.Operation {
	return func(b []byte) op.Operation {
		var p roomPayload
		if err := payload.Decode(b, &p); err != nil {
			return op.Invalid{Op: kind, Err: err}
		}
		return mk(p.Room)
	}
}

type reactPayload struct {
	Room     string `json:"room"`
	Reaction string `json:"reaction"`
}

func (p reactPayload) Operation() op.Operation { return op.React{Room: p.Room, Reaction: p.Reaction} }

type schedulePayload struct {
	Room         string         `json:"room"`
	ScheduleData map[string]any `json:"schedule_data"`
}

func (p schedulePayload) Operation() op.Operation {
	return op.SetSchedule{Room: p.Room, Data: p.ScheduleData}
}

type createPayload struct {
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Modules     []map[string]any `json:"modules"`
}

func (p createPayload) Operation() op.Operation {
	return op.CreateRoom{Name: p.Name, Description: p.Description, Modules: p.Modules}
}

type reorderPayload []string

func (p reorderPayload) Operation() op.Operation { return op.ReorderRooms{IDs: p} }

// decodePatch decodes room.config.patch: the room and the fields to change,
// which the catalog decodes field by field (the room key is ignored there).
func decodePatch(b []byte) op.Operation {
	var fields map[string]json.RawMessage
	if err := payload.Decode(b, &fields); err != nil {
		return op.Invalid{Op: op.KindPatchRoomConfig, Err: err}
	}
	var room string
	if raw, ok := fields["room"]; ok {
		if err := json.Unmarshal(raw, &room); err != nil {
			return op.Invalid{Op: op.KindPatchRoomConfig, Err: payload.Invalid(err)}
		}
	}
	return op.PatchRoomConfig{Room: room, Fields: fields}
}

// credentialsPayload is authenticate's payload. Profile (guests only, a
// roomring extension) must be an object if present; of it only a string
// display_name is read.
type credentialsPayload struct {
	Token       string `json:"token"`
	ClientID    string `json:"client_id"`
	InviteToken string `json:"invite_token"`
	Profile     *struct {
		DisplayName json.RawMessage `json:"display_name"`
	} `json:"profile"`
}

func decodeCredentials(b []byte) *op.Credentials {
	var p credentialsPayload
	if len(b) == 0 || json.Unmarshal(b, &p) != nil {
		return nil
	}
	c := &op.Credentials{Token: p.Token, ClientID: p.ClientID, InviteToken: p.InviteToken}
	if p.Profile != nil {
		var name string
		if raw := p.Profile.DisplayName; len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &name) == nil {
			c.DisplayName = &name
		}
	}
	return c
}
