package op

// Result is an operation's successful outcome. Each codec encodes the
// result types it knows in its own dialect's shape; the engine defines the
// results that carry catalog rooms (engine.RoomConfigResult,
// engine.RoomConfigsResult).
type Result interface {
	// OpResult marks result types.
	OpResult()
}

// Done is the result of operations that answer nothing but success.
type Done struct{}

// RoomPerms is what a client may do in a room, for dialects that show it.
type RoomPerms struct {
	View, React, Announce, Update, Delete bool
}

// EnterResult is the result of Enter.
type EnterResult struct {
	// Viewers is nil unless the client may see the room's viewers.
	Viewers []User
	Perms   RoomPerms
}

// CreateRoomResult is the result of CreateRoom.
type CreateRoomResult struct{ Room string }

// InviteLinkResult is the result of InviteLink.
type InviteLinkResult struct{ URL string }

// ResourceReactions is the result of GetResourceReactions. Reactions lists
// identified users' [user id, reaction] pairs, newest first; Total counts
// everyone; Own is the asking client's reaction ("" when none).
type ResourceReactions struct {
	Reactions [][2]string
	Total     int
	Own       string
}

// OwnResourceReaction is the result of GetOwnResourceReaction ("" when none).
type OwnResourceReaction struct{ Reaction string }

// OpResult implements Result.
func (Done) OpResult() {}

// OpResult implements Result.
func (EnterResult) OpResult() {}

// OpResult implements Result.
func (CreateRoomResult) OpResult() {}

// OpResult implements Result.
func (InviteLinkResult) OpResult() {}

// OpResult implements Result.
func (ResourceReactions) OpResult() {}

// OpResult implements Result.
func (OwnResourceReaction) OpResult() {}
