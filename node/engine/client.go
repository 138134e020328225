package engine

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/op"
)

// Client is one authenticated connection's state in the engine. Do may be
// called from the connection's read goroutine only; SendPersonal-driven
// methods (Personalize) from any goroutine.
type Client struct {
	eng    *Engine
	user   *auth.User
	public op.User
	sink   Sink

	mu     sync.Mutex
	rooms  map[string]struct{}
	closed bool
}

// User returns the client's user.
func (c *Client) User() *auth.User { return c.user }

// EnterResult is the result of room.enter (and Valu's room:join).
type EnterResult struct {
	// Viewers is nil unless the user may see the room's viewers.
	Viewers []op.User
	Perms   auth.Perm
}

// MarshalJSON is the venueless reply: {"viewers": [...]} or {}.
func (r EnterResult) MarshalJSON() ([]byte, error) {
	if r.Viewers == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(struct {
		Viewers []op.User `json:"viewers"`
	}{r.Viewers})
}

// Empty is the {} reply of operations without a result.
type Empty struct{}

type roomBody struct {
	Room string `json:"room"`
}

// Do executes req and returns its result (JSON-encodable in the venueless
// shape) or an error.
func (c *Client) Do(ctx context.Context, req op.Request) (any, *op.Error) {
	switch req.Kind {
	case op.RoomEnter:
		return c.enter(ctx, req.Body)
	case op.RoomLeave:
		return c.leave(ctx, req.Body)
	case op.RoomReact:
		return c.react(ctx, req.Body)
	case op.RoomSchedule:
		return c.schedule(ctx, req.Body)
	case op.RoomDelete:
		return c.delete(ctx, req.Body)
	case op.RoomCreate:
		return c.create(ctx, req.Body)
	case op.RoomConfigGet:
		return c.configGet(req.Body)
	case op.RoomConfigPatch:
		return c.configPatch(ctx, req.Body)
	case op.RoomConfigList:
		return c.configList()
	case op.RoomConfigReorder:
		return c.configReorder(ctx, req.Body)
	case op.RoomInviteAnonymous:
		return c.inviteLink(ctx, req.Body)
	case op.ResourceReactionSet, op.ResourceReactionDel, op.ResourceReactionGet, op.ResourceReactionOwn:
		return c.resourceOp(ctx, req)
	}
	return nil, op.Errorf(op.CodeUnknownCommand, "unknown command %q", req.Kind)
}

func (c *Client) roomOf(body json.RawMessage) (roomView, *op.Error) {
	var b roomBody
	if err := decode(body, &b); err != nil {
		return roomView{}, err
	}
	if b.Room == "" {
		return roomView{}, op.Errorf(op.CodeRoomUnknown, "missing room")
	}
	return c.eng.view(c.user, b.Room)
}

func denied(what string) *op.Error {
	return op.Errorf(op.CodeDenied, "missing permission %s", what)
}

func (c *Client) enter(ctx context.Context, body json.RawMessage) (any, *op.Error) {
	v, err := c.roomOf(body)
	if err != nil {
		return nil, err
	}
	return c.Enter(ctx, v)
}

// Enter makes the client a member of the room it may view.
func (c *Client) Enter(ctx context.Context, v roomView) (EnterResult, *op.Error) {
	if !v.perms.Has(auth.RoomView) {
		return EnterResult{}, denied("room:view")
	}
	seesViewers := v.showViewers && v.perms.Has(auth.RoomViewers)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return EnterResult{}, op.Errorf(op.CodeUnavailable, "connection closing")
	}
	c.rooms[v.id] = struct{}{}
	c.mu.Unlock()
	unlock := c.eng.presence.lock(c.user.ID)
	c.eng.edge.Enter(v.id, c.sink, c.public, seesViewers)
	viewers, err := c.eng.owner.Enter(ctx, v.id, c.public, c.eng.edge.ID(), seesViewers)
	if err == nil {
		c.eng.edge.Saw(v.id, viewers) // what this edge's sessions now know, for viewer snapshots
	}
	unlock()
	if err != nil {
		c.partRoom(ctx, v.id)
		return EnterResult{}, c.eng.internal(ctx, "room.enter", err)
	}
	res := EnterResult{Perms: v.perms}
	if seesViewers {
		res.Viewers = viewers
	}
	return res, nil
}

func (c *Client) leave(ctx context.Context, body json.RawMessage) (any, *op.Error) {
	v, err := c.roomOf(body)
	if err != nil {
		return nil, err
	}
	c.partRoom(ctx, v.id)
	return Empty{}, nil
}

// partRoom removes the client from a room; the owner learns of it when this
// was the user's last session on this edge.
func (c *Client) partRoom(ctx context.Context, room string) {
	c.mu.Lock()
	delete(c.rooms, room)
	c.mu.Unlock()
	defer c.eng.presence.lock(c.user.ID)()
	if c.eng.edge.Part(room, c.sink) {
		if err := c.eng.owner.Leave(ctx, room, c.user.ID, c.eng.edge.ID()); err != nil {
			c.eng.log.WarnContext(ctx, "leave not delivered to owner", "room", room, "err", err)
		}
	}
}

// Close leaves every room, exactly like room.leave, and releases the client.
// It is idempotent.
func (c *Client) Close(ctx context.Context) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	unlock := c.eng.presence.lock(c.user.ID)
	for _, room := range c.eng.edge.Detach(c.sink) {
		if err := c.eng.owner.Leave(ctx, room, c.user.ID, c.eng.edge.ID()); err != nil {
			c.eng.log.WarnContext(ctx, "leave not delivered to owner", "room", room, "err", err)
		}
	}
	unlock()
	e := c.eng
	e.mu.Lock()
	list := e.perUser[c.user.ID]
	if i := slices.Index(list, c); i >= 0 {
		list = slices.Delete(list, i, i+1)
	}
	if len(list) == 0 {
		delete(e.perUser, c.user.ID)
	} else {
		e.perUser[c.user.ID] = list
	}
	e.mu.Unlock()
}

type reactBody struct {
	Room     string `json:"room"`
	Reaction string `json:"reaction"`
}

func (c *Client) react(ctx context.Context, body json.RawMessage) (any, *op.Error) {
	var b reactBody
	if err := decode(body, &b); err != nil {
		return nil, err
	}
	v, err := c.eng.view(c.user, b.Room)
	if err != nil {
		return nil, err
	}
	if !v.perms.Has(auth.RoomReact) {
		return nil, denied("room:react")
	}
	if !slices.Contains(v.reactions, b.Reaction) {
		return nil, op.Errorf(op.CodeUnknownReaction, "Unknown reaction")
	}
	if err := c.eng.owner.React(ctx, v.id, c.user.ID, b.Reaction); err != nil {
		return nil, c.eng.internal(ctx, "room.react", err)
	}
	return Empty{}, nil
}

type scheduleBody struct {
	Room         string         `json:"room"`
	ScheduleData map[string]any `json:"schedule_data"`
}

func (c *Client) schedule(ctx context.Context, body json.RawMessage) (any, *op.Error) {
	var b scheduleBody
	if err := decode(body, &b); err != nil {
		return nil, err
	}
	v, err := c.eng.view(c.user, b.Room)
	if err != nil {
		return nil, err
	}
	if !v.perms.Has(auth.RoomAnnounce) {
		return nil, denied("room:announce")
	}
	if err := catalog.ValidateSchedule(b.ScheduleData); err != nil {
		return nil, err
	}
	if err := c.eng.rooms.SetSchedule(ctx, v.id, b.ScheduleData); err != nil {
		return nil, c.eng.internal(ctx, "room.schedule", err)
	}
	ev := &op.Event{Kind: op.EvSchedule, Room: v.id, Audience: op.ToRoom,
		Data: op.Schedule{Room: v.id, ScheduleData: b.ScheduleData}}
	if err := c.eng.owner.Announce(ctx, v.id, ev); err != nil {
		return nil, c.eng.internal(ctx, "room.schedule", err)
	}
	return Empty{}, nil
}

func (c *Client) delete(ctx context.Context, body json.RawMessage) (any, *op.Error) {
	v, err := c.roomOf(body)
	if err != nil {
		return nil, err
	}
	if !v.perms.Has(auth.RoomDelete) {
		return nil, denied("room:delete")
	}
	if err := c.eng.rooms.Delete(ctx, v.id); err != nil {
		return nil, c.eng.internal(ctx, "room.delete", err)
	}
	c.eng.roomDeleted(ctx, v.id)
	return Empty{}, nil
}

// DeleteRoom removes a room from the catalog, drops its owner state and
// tells every client of the world.
func (e *Engine) DeleteRoom(ctx context.Context, id string) error {
	if err := e.catalog.Delete(ctx, id); err != nil {
		return err
	}
	e.roomDeleted(ctx, id)
	return nil
}

// roomDeleted drops a deleted room's owner state and tells every client.
func (e *Engine) roomDeleted(ctx context.Context, id string) {
	if err := e.owner.Forget(ctx, id); err != nil {
		e.log.WarnContext(ctx, "owner did not forget deleted room", "room", id, "err", err)
	}
	e.bcast.PublishAll(&op.Event{Kind: op.EvRoomDelete, Room: id, Audience: op.ToWorld, Data: op.RoomDeleted{ID: id}})
}

// CreateResult is room.create's reply.
type CreateResult struct {
	Room    string  `json:"room"`
	Channel *string `json:"channel"`
}

func (c *Client) create(ctx context.Context, body json.RawMessage) (any, *op.Error) {
	if !c.eng.policy.World(c.user).Has(auth.WorldRoomsCreate) {
		return nil, denied("world:rooms.create")
	}
	var b catalog.CreateRequest
	if err := decode(body, &b); err != nil {
		return nil, err
	}
	b.Name = strings.TrimSpace(b.Name)
	if b.Name == "" {
		return nil, op.Errorf(op.CodeConfigInvalid, "name is required")
	}
	r, err := c.eng.rooms.Create(ctx, b)
	if err != nil {
		return nil, c.eng.internal(ctx, "room.create", err)
	}
	c.eng.bcast.PublishAll(&op.Event{Kind: op.EvRoomCreate, Room: r.ID, Audience: op.ToWorld, Personal: true})
	return CreateResult{Room: r.ID}, nil
}

func (c *Client) configGet(body json.RawMessage) (any, *op.Error) {
	v, err := c.roomOf(body)
	if err != nil {
		return nil, err
	}
	if !v.perms.Has(auth.RoomUpdate) {
		return nil, denied("room:update")
	}
	r := c.eng.catalog.Get(v.id)
	if r == nil {
		return nil, op.Errorf(op.CodeRoomUnknown, "unknown room %q", v.id)
	}
	return r, nil
}

func (c *Client) configPatch(ctx context.Context, body json.RawMessage) (any, *op.Error) {
	v, err := c.roomOf(body)
	if err != nil {
		return nil, err
	}
	if !v.perms.Has(auth.RoomUpdate) {
		return nil, denied("room:update")
	}
	var fields map[string]json.RawMessage
	if err := decode(body, &fields); err != nil {
		return nil, err
	}
	r, perr := c.eng.rooms.Patch(ctx, v.id, fields)
	if perr != nil {
		return nil, c.eng.internal(ctx, "room.config.patch", perr)
	}
	c.eng.NotifyWorldChanged()
	return r, nil
}

// NotifyWorldChanged sends every client its new world config.
func (e *Engine) NotifyWorldChanged() {
	e.bcast.PublishAll(&op.Event{Kind: op.EvWorldUpdated, Audience: op.ToWorld, Personal: true})
}

func (c *Client) configList() (any, *op.Error) {
	if !c.eng.policy.World(c.user).Has(auth.RoomUpdate) {
		return nil, denied("room:update")
	}
	return c.eng.catalog.List(), nil
}

func (c *Client) configReorder(ctx context.Context, body json.RawMessage) (any, *op.Error) {
	if !c.eng.policy.World(c.user).Has(auth.RoomUpdate) {
		return nil, denied("room:update")
	}
	var ids []string
	if err := decode(body, &ids); err != nil {
		return nil, err
	}
	rooms, err := c.eng.rooms.Reorder(ctx, ids)
	if err != nil {
		return nil, c.eng.internal(ctx, "room.config.reorder", err)
	}
	c.eng.NotifyWorldChanged()
	return rooms, nil
}

// InviteResult is room.invite.anonymous.link's reply.
type InviteResult struct {
	URL string `json:"url"`
}

func (c *Client) inviteLink(ctx context.Context, body json.RawMessage) (any, *op.Error) {
	v, err := c.roomOf(body)
	if err != nil {
		return nil, err
	}
	if !v.perms.Has(auth.RoomInviteAnonymous) && !v.perms.Has(auth.RoomUpdate) {
		return nil, denied("room:invite.anonymous")
	}
	if !v.invites {
		return nil, op.Errorf(op.CodeDenied, "anonymous invites are disabled for this room")
	}
	code, cerr := c.eng.catalog.InviteCode(ctx, v.id)
	if cerr != nil {
		return nil, c.eng.internal(ctx, "room.invite.anonymous.link", cerr)
	}
	return InviteResult{URL: strings.TrimRight(c.eng.cfg.InviteBaseURL, "/") + "/" + code}, nil
}
