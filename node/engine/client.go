package engine

import (
	"context"
	"slices"
	"sync"

	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/op"
)

// Client is one authenticated connection's state in the engine. Do may be
// called from the connection's read goroutine only; World and Room (which
// personal events call) from any goroutine.
type Client struct {
	eng  *Engine
	user *auth.User // its public face, user.Public(), is built when needed: no copy kept per connection
	sink Sink

	// The rooms the client is in are the edge's to know (Edge.Detach).
	mu     sync.Mutex
	closed bool
}

// User returns the client's user.
func (c *Client) User() *auth.User { return c.user }

// enter makes the client a member of the room it may view (the route
// checked room:view).
func (c *Client) enter(ctx context.Context, _ op.Enter, v roomView) (op.Result, *op.Error) {
	seesViewers := v.showViewers && v.perms.Has(auth.RoomViewers)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, op.Errorf(op.CodeUnavailable, "connection closing")
	}
	c.mu.Unlock()
	unlock := c.eng.presence.lock(c.user.ID)
	public := c.user.Public()
	c.eng.edge.Enter(v.id, c.sink, public, seesViewers)
	viewers, err := c.eng.owner.Enter(ctx, v.id, public, c.eng.edge.ID(), seesViewers)
	if err == nil {
		c.eng.edge.Saw(v.id, viewers) // what this edge's sessions now know, for viewer snapshots
	}
	unlock()
	if err != nil {
		c.partRoom(ctx, v.id)
		return nil, c.eng.internal(ctx, op.KindEnter, err)
	}
	res := op.EnterResult{Perms: roomPerms(v.perms)}
	if seesViewers {
		res.Viewers = viewers
	}
	return res, nil
}

func (c *Client) leave(ctx context.Context, _ op.Leave, v roomView) (op.Result, *op.Error) {
	c.partRoom(ctx, v.id)
	return op.Done{}, nil
}

// roomPerms is p as the dialects show it.
func roomPerms(p auth.Perm) op.RoomPerms {
	return op.RoomPerms{View: p.Has(auth.RoomView), React: p.Has(auth.RoomReact), Announce: p.Has(auth.RoomAnnounce),
		Update: p.Has(auth.RoomUpdate), Delete: p.Has(auth.RoomDelete)}
}

// partRoom removes the client from a room; the owner learns of it when this
// was the user's last session on this edge.
func (c *Client) partRoom(ctx context.Context, room string) {
	defer c.eng.presence.lock(c.user.ID)()
	if c.eng.edge.Part(room, c.sink) {
		c.eng.owner.Leave(ctx, room, c.user.ID, c.eng.edge.ID())
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
		c.eng.owner.Leave(ctx, room, c.user.ID, c.eng.edge.ID())
	}
	unlock()
	e := c.eng
	e.mu.Lock()
	list := e.perUser[c.user.ID]
	if i := slices.Index(list, c); i >= 0 {
		list = slices.Delete(list, i, i+1)
		e.conns--
	}
	if len(list) == 0 {
		delete(e.perUser, c.user.ID)
	} else {
		e.perUser[c.user.ID] = list
	}
	e.mu.Unlock()
}
