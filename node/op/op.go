// Package op defines the dialect-neutral operations, results, events and errors
// that every wire codec decodes into and encodes from.
//
// A codec (venueless JSON arrays, Socket.IO) decodes a client frame once into
// one of the Operation types below, the engine executes it, and the codec
// turns the Result or Error back into the dialect's own reply. Events flow
// the other way: the room owner and the catalog produce Events, each edge
// encodes them once per dialect and fans them out. Nothing in this package
// knows about sockets or wire formats: the field names and JSON shapes of
// each dialect live in its codec's package.
package op

import (
	"encoding/json"
	"net/netip"
)

// Kind names an operation, for dispatch, logs and errors.
type Kind string

// Operations a client may request.
const (
	KindEnter                  Kind = "enter"
	KindLeave                  Kind = "leave"
	KindReact                  Kind = "react"
	KindSetSchedule            Kind = "set-schedule"
	KindDeleteRoom             Kind = "delete-room"
	KindCreateRoom             Kind = "create-room"
	KindGetRoomConfig          Kind = "get-room-config"
	KindPatchRoomConfig        Kind = "patch-room-config"
	KindListRoomConfigs        Kind = "list-room-configs"
	KindReorderRooms           Kind = "reorder-rooms"
	KindInviteLink             Kind = "invite-link"
	KindSetResourceReaction    Kind = "set-resource-reaction"
	KindDeleteResourceReaction Kind = "delete-resource-reaction"
	KindGetResourceReactions   Kind = "get-resource-reactions"
	KindGetOwnResourceReaction Kind = "get-own-resource-reaction"
)

// Operation is one decoded client request.
type Operation interface {
	Kind() Kind
}

// Enter makes the client a member of Room (venueless room.enter, Valu
// room:join).
type Enter struct{ Room string }

// Leave ends the client's membership of Room.
type Leave struct{ Room string }

// React throws Reaction into Room's aggregation window.
type React struct{ Room, Reaction string }

// SetSchedule replaces Room's schedule data and tells its members.
type SetSchedule struct {
	Room string
	Data map[string]any
}

// DeleteRoom removes Room from the world.
type DeleteRoom struct{ Room string }

// CreateRoom adds a room to the world.
type CreateRoom struct {
	Name        string
	Description string
	Modules     []map[string]any
}

// GetRoomConfig asks for Room's full configuration.
type GetRoomConfig struct{ Room string }

// PatchRoomConfig changes the named configuration fields of Room. Fields
// holds each field's new value as sent, in the catalog's patch format
// (catalog.ApplyPatch validates and decodes each value once).
type PatchRoomConfig struct {
	Room   string
	Fields map[string]json.RawMessage
}

// ListRoomConfigs asks for every room's full configuration.
type ListRoomConfigs struct{}

// ReorderRooms puts the rooms in the order of IDs.
type ReorderRooms struct{ IDs []string }

// InviteLink asks for Room's anonymous invite link.
type InviteLink struct{ Room string }

// ResourceTarget names what a resource reaction is to: a resource or one
// comment on it. Room is required by writes and optional for reads.
type ResourceTarget struct {
	Room     string
	Resource string
	Comment  string
}

// SetResourceReaction sets the client's reaction on Target.
type SetResourceReaction struct {
	Target   ResourceTarget
	Reaction string
}

// DeleteResourceReaction removes the client's reaction on Target.
type DeleteResourceReaction struct{ Target ResourceTarget }

// GetResourceReactions asks for the reactions on Target.
type GetResourceReactions struct{ Target ResourceTarget }

// GetOwnResourceReaction asks for the client's own reaction on Target.
type GetOwnResourceReaction struct{ Target ResourceTarget }

// Invalid is a request for a known operation whose payload did not decode.
// The engine answers Err at the point where the operation would have read its
// payload, so checks that come first (world permissions, availability) are
// reported first, whichever dialect carried the request.
type Invalid struct {
	Op  Kind
	Err *Error
}

// Kind implements Operation.
func (Enter) Kind() Kind { return KindEnter }

// Kind implements Operation.
func (Leave) Kind() Kind { return KindLeave }

// Kind implements Operation.
func (React) Kind() Kind { return KindReact }

// Kind implements Operation.
func (SetSchedule) Kind() Kind { return KindSetSchedule }

// Kind implements Operation.
func (DeleteRoom) Kind() Kind { return KindDeleteRoom }

// Kind implements Operation.
func (CreateRoom) Kind() Kind { return KindCreateRoom }

// Kind implements Operation.
func (GetRoomConfig) Kind() Kind { return KindGetRoomConfig }

// Kind implements Operation.
func (PatchRoomConfig) Kind() Kind { return KindPatchRoomConfig }

// Kind implements Operation.
func (ListRoomConfigs) Kind() Kind { return KindListRoomConfigs }

// Kind implements Operation.
func (ReorderRooms) Kind() Kind { return KindReorderRooms }

// Kind implements Operation.
func (InviteLink) Kind() Kind { return KindInviteLink }

// Kind implements Operation.
func (SetResourceReaction) Kind() Kind { return KindSetResourceReaction }

// Kind implements Operation.
func (DeleteResourceReaction) Kind() Kind { return KindDeleteResourceReaction }

// Kind implements Operation.
func (GetResourceReactions) Kind() Kind { return KindGetResourceReactions }

// Kind implements Operation.
func (GetOwnResourceReaction) Kind() Kind { return KindGetOwnResourceReaction }

// Kind implements Operation: the operation the request was meant to be.
func (i Invalid) Kind() Kind { return i.Op }

// Credentials are what a client authenticates with: a token, or a client id
// (a guest), optionally with an invite token.
type Credentials struct {
	Token       string
	ClientID    string
	InviteToken string
	// DisplayName is a guest's proposed display name, nil when none was
	// given (a roomring extension: venueless' profile.display_name).
	DisplayName *string
	// Source is the client's address, for per-address limits (failed
	// invite redemptions); the zero Addr when unknown.
	Source netip.Addr
}
