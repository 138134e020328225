package engine

import (
	"context"

	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/op"
)

// roomRule says whether an operation names a room and when it must.
type roomRule uint8

const (
	noRoom       roomRule = iota
	roomRequired          // an empty room is room.unknown
	roomOptional          // an empty room skips the room checks
	roomForWrite          // an empty room is protocol.invalid
)

// route is one row of the dispatch table: what an operation needs before
// its handler runs. The checks run in this order: world permission,
// resource reactions available, the payload decoded (op.Invalid), the room
// known, each room permission.
type route struct {
	world     auth.Perm // world permission required (0: none)
	resources bool      // needs resource reactions on this node
	room      roomRule
	// roomOf returns the room the operation names.
	roomOf func(op.Operation) string
	// perms are checked in order; each is satisfied by any of its bits.
	perms []auth.Perm
	run   func(c *Client, ctx context.Context, o op.Operation, v roomView) (op.Result, *op.Error)
}

// handle adapts a typed handler to a route's run.
func handle[O op.Operation](fn func(c *Client, ctx context.Context, o O, v roomView) (op.Result, *op.Error)) func(*Client, context.Context, op.Operation, roomView) (op.Result, *op.Error) {
	return func(c *Client, ctx context.Context, o op.Operation, v roomView) (op.Result, *op.Error) {
		return fn(c, ctx, o.(O), v)
	}
}

// roomField adapts an operation's room accessor to a route's roomOf.
func roomField[O op.Operation](fn func(O) string) func(op.Operation) string {
	return func(o op.Operation) string { return fn(o.(O)) }
}

// routes is the dispatch table: every operation of every dialect, its
// permissions and its handler. An operation both dialects carry is served
// by the same row.
var routes = map[op.Kind]route{
	op.KindEnter: {room: roomRequired, roomOf: roomField(func(o op.Enter) string { return o.Room }),
		perms: []auth.Perm{auth.RoomView}, run: handle((*Client).enter)},
	op.KindLeave: {room: roomRequired, roomOf: roomField(func(o op.Leave) string { return o.Room }),
		run: handle((*Client).leave)},
	op.KindReact: {room: roomRequired, roomOf: roomField(func(o op.React) string { return o.Room }),
		perms: []auth.Perm{auth.RoomReact}, run: handle((*Client).react)},
	op.KindSetSchedule: {room: roomRequired, roomOf: roomField(func(o op.SetSchedule) string { return o.Room }),
		perms: []auth.Perm{auth.RoomAnnounce}, run: handle((*Client).schedule)},
	op.KindDeleteRoom: {room: roomRequired, roomOf: roomField(func(o op.DeleteRoom) string { return o.Room }),
		perms: []auth.Perm{auth.RoomDelete}, run: handle((*Client).deleteRoom)},
	op.KindCreateRoom: {run: handle((*Client).createRoom)}, // its permission depends on the modules (createPerm)
	op.KindGetRoomConfig: {room: roomRequired, roomOf: roomField(func(o op.GetRoomConfig) string { return o.Room }),
		perms: []auth.Perm{auth.RoomUpdate}, run: handle((*Client).configGet)},
	op.KindPatchRoomConfig: {room: roomRequired, roomOf: roomField(func(o op.PatchRoomConfig) string { return o.Room }),
		perms: []auth.Perm{auth.RoomUpdate}, run: handle((*Client).configPatch)},
	op.KindListRoomConfigs: {world: auth.RoomUpdate, run: handle((*Client).configList)},
	op.KindReorderRooms:    {world: auth.RoomUpdate, run: handle((*Client).configReorder)},
	op.KindInviteLink: {room: roomRequired, roomOf: roomField(func(o op.InviteLink) string { return o.Room }),
		perms: []auth.Perm{auth.RoomInviteAnonymous | auth.RoomUpdate}, run: handle((*Client).inviteLink)},
	op.KindSetResourceReaction: {resources: true, room: roomForWrite,
		roomOf: roomField(func(o op.SetResourceReaction) string { return o.Target.Room }),
		perms:  []auth.Perm{auth.RoomView, auth.RoomReact}, run: handle((*Client).setResourceReaction)},
	op.KindDeleteResourceReaction: {resources: true, room: roomForWrite,
		roomOf: roomField(func(o op.DeleteResourceReaction) string { return o.Target.Room }),
		perms:  []auth.Perm{auth.RoomView, auth.RoomReact}, run: handle((*Client).deleteResourceReaction)},
	op.KindGetResourceReactions: {resources: true, room: roomOptional,
		roomOf: roomField(func(o op.GetResourceReactions) string { return o.Target.Room }),
		perms:  []auth.Perm{auth.RoomView}, run: handle((*Client).resourceReactions)},
	op.KindGetOwnResourceReaction: {resources: true, room: roomOptional,
		roomOf: roomField(func(o op.GetOwnResourceReaction) string { return o.Target.Room }),
		perms:  []auth.Perm{auth.RoomView}, run: handle((*Client).ownResourceReaction)},
}

// Do executes o: it finds o's route, runs the route's checks and then its
// handler.
func (c *Client) Do(ctx context.Context, o op.Operation) (op.Result, *op.Error) {
	if err := c.eng.takeFrame(); err != nil {
		return nil, err
	}
	r, ok := routes[o.Kind()]
	if !ok {
		return nil, op.Errorf(op.CodeUnknownCommand, "unknown command %q", o.Kind())
	}
	if r.world != 0 && !c.eng.settings().policy.World(c.user).Has(r.world) {
		return nil, denied(r.world)
	}
	if r.resources && c.eng.resources == nil {
		return nil, op.Errorf(op.CodeUnavailable, "resource reactions are not available on this node")
	}
	if bad, ok := o.(op.Invalid); ok {
		return nil, bad.Err
	}
	var v roomView
	if r.room != noRoom {
		v.id = r.roomOf(o)
		switch {
		case v.id == "" && r.room == roomRequired:
			return nil, op.Errorf(op.CodeRoomUnknown, "missing room")
		case v.id == "" && r.room == roomForWrite:
			return nil, op.Errorf(op.CodeBadRequest, "room is required")
		case v.id != "":
			var err *op.Error
			if v, err = c.eng.view(c.user, v.id); err != nil {
				return nil, err
			}
			for _, p := range r.perms {
				if v.perms&p == 0 {
					return nil, denied(p)
				}
			}
		}
	}
	return r.run(c, ctx, o, v)
}

// denied is protocol.denied for the first permission of p.
func denied(p auth.Perm) *op.Error {
	return op.Errorf(op.CodeDenied, "missing permission %s", p.Names()[0])
}
