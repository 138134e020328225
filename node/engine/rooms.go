package engine

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/op"
)

// The handlers of the room operations. Each runs after its route's checks
// (dispatch.go): v is the named room as the client sees it.

func (c *Client) react(ctx context.Context, o op.React, v roomView) (op.Result, *op.Error) {
	if !slices.Contains(v.reactions, o.Reaction) {
		return nil, op.Errorf(op.CodeUnknownReaction, "Unknown reaction")
	}
	if err := c.eng.owner.React(ctx, v.id, c.user.ID, o.Reaction); err != nil {
		return nil, c.eng.internal(ctx, op.KindReact, err)
	}
	return op.Done{}, nil
}

func (c *Client) schedule(ctx context.Context, o op.SetSchedule, v roomView) (op.Result, *op.Error) {
	if err := catalog.ValidateSchedule(o.Data); err != nil {
		return nil, err
	}
	if err := c.eng.rooms.SetSchedule(ctx, v.id, o.Data); err != nil {
		return nil, c.eng.internal(ctx, op.KindSetSchedule, err)
	}
	if err := c.eng.owner.Announce(ctx, v.id, op.NewSchedule(v.id, o.Data)); err != nil {
		return nil, c.eng.internal(ctx, op.KindSetSchedule, err)
	}
	return op.Done{}, nil
}

func (c *Client) deleteRoom(ctx context.Context, _ op.DeleteRoom, v roomView) (op.Result, *op.Error) {
	before := c.eng.catalog.Get(v.id)
	err := c.eng.rooms.Delete(ctx, v.id)
	switch {
	case errors.Is(err, ErrClosedMeanwhile):
		return op.Done{}, nil // whoever closed it told the clients
	case err != nil:
		return nil, c.eng.internal(ctx, op.KindDeleteRoom, err)
	}
	c.eng.roomDeleted(ctx, v.id, before)
	return op.Done{}, nil
}

// DeleteRoom removes a room from the catalog, drops its owner state and
// tells every client of the world.
func (e *Engine) DeleteRoom(ctx context.Context, id string) error {
	before := e.catalog.Get(id)
	if err := e.catalog.Delete(ctx, id); err != nil {
		return err
	}
	e.roomDeleted(ctx, id, before)
	return nil
}

// roomDeleted drops a deleted room's owner state and tells every client.
// before is the room as the catalog held it (nil when unknown).
func (e *Engine) roomDeleted(ctx context.Context, id string, before *catalog.Room) {
	if err := e.owner.Forget(ctx, id); err != nil {
		e.log.WarnContext(ctx, "owner did not forget deleted room", "room", id, "err", err)
	}
	if before == nil {
		before = &catalog.Room{ID: id} // deleted all the same
	}
	e.changed(catalog.Change{ID: id, Before: before, Cause: catalog.CauseDelete})
}

func (c *Client) createRoom(ctx context.Context, o op.CreateRoom, _ roomView) (op.Result, *op.Error) {
	need := createPerm(o.Modules)
	if w := c.eng.settings().policy.World(c.user); !w.Has(auth.WorldRoomsCreate) && !w.Has(need) {
		return nil, denied(need)
	}
	name := strings.TrimSpace(o.Name)
	if name == "" {
		return nil, op.Errorf(op.CodeConfigInvalid, "name is required")
	}
	r, err := c.eng.rooms.Create(ctx, catalog.CreateRequest{Scope: c.eng.scope, Name: name, Description: o.Description, Modules: o.Modules})
	if err != nil {
		return nil, c.eng.internal(ctx, op.KindCreateRoom, err)
	}
	c.eng.changed(catalog.Change{ID: r.ID, After: r, Cause: catalog.CauseCreate})
	return op.CreateRoomResult{Room: r.ID}, nil
}

// createPerm is the world permission that allows creating a room with
// these modules besides world:rooms.create (which allows any), as venueless
// checks it: a room with a text chat needs world:rooms.create.chat, a
// video call alone world:rooms.create.bbb, a stage
// world:rooms.create.stage, a room without modules room:update; other
// module sets need world:rooms.create.
func createPerm(modules []map[string]any) auth.Perm {
	types := map[string]bool{}
	for _, m := range modules {
		t, _ := m["type"].(string)
		types[t] = true
	}
	switch {
	case types["chat.native"]:
		return auth.WorldRoomsCreateChat
	case len(types) == 1 && types["call.bigbluebutton"]:
		return auth.WorldRoomsCreateBBB
	case types["livestream.native"]:
		return auth.WorldRoomsCreateStage
	case len(types) == 0:
		return auth.RoomUpdate
	}
	return auth.WorldRoomsCreate
}

// RoomConfigResult is the result of op.GetRoomConfig and
// op.PatchRoomConfig: the room's full configuration.
type RoomConfigResult struct{ Room *catalog.Room }

// RoomConfigsResult is the result of op.ListRoomConfigs and
// op.ReorderRooms: every room's configuration, in order.
type RoomConfigsResult struct{ Rooms []*catalog.Room }

// OpResult implements op.Result.
func (RoomConfigResult) OpResult() {}

// OpResult implements op.Result.
func (RoomConfigsResult) OpResult() {}

func (c *Client) configGet(_ context.Context, _ op.GetRoomConfig, v roomView) (op.Result, *op.Error) {
	r := c.eng.catalog.Get(v.id)
	if r == nil {
		return nil, op.Errorf(op.CodeRoomUnknown, "unknown room %q", v.id)
	}
	return RoomConfigResult{Room: r}, nil
}

func (c *Client) configPatch(ctx context.Context, o op.PatchRoomConfig, v roomView) (op.Result, *op.Error) {
	before := c.eng.catalog.Get(v.id)
	r, err := c.eng.rooms.Patch(ctx, v.id, o.Fields)
	if err != nil {
		return nil, c.eng.internal(ctx, op.KindPatchRoomConfig, err)
	}
	if before == nil {
		before = r // created and patched since the route's check: still an update
	}
	c.eng.changed(catalog.Change{ID: r.ID, Before: before, After: r, Cause: catalog.CauseUpdate})
	return RoomConfigResult{Room: r}, nil
}

func (c *Client) configList(context.Context, op.ListRoomConfigs, roomView) (op.Result, *op.Error) {
	return RoomConfigsResult{Rooms: c.eng.catalog.ListIn(c.eng.scope)}, nil
}

func (c *Client) configReorder(ctx context.Context, o op.ReorderRooms, _ roomView) (op.Result, *op.Error) {
	before := c.eng.catalog.ListIn(c.eng.scope)
	rooms, err := c.eng.rooms.Reorder(ctx, c.eng.scope, o.IDs)
	if err != nil {
		return nil, c.eng.internal(ctx, op.KindReorderRooms, err)
	}
	c.eng.changed(reordered(before, rooms)...)
	return RoomConfigsResult{Rooms: rooms}, nil
}

func (c *Client) inviteLink(ctx context.Context, _ op.InviteLink, v roomView) (op.Result, *op.Error) {
	if !v.invites {
		return nil, op.Errorf(op.CodeDenied, "anonymous invites are disabled for this room")
	}
	code, err := c.eng.catalog.InviteCode(ctx, v.id)
	if err != nil {
		return nil, c.eng.internal(ctx, op.KindInviteLink, err)
	}
	return op.InviteLinkResult{URL: strings.TrimRight(c.eng.settings().cfg.InviteBaseURL, "/") + "/" + code}, nil
}
