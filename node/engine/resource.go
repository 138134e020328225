package engine

import (
	"context"

	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/reaction"
)

// ResourceReactions is how the engine reaches resource reactions. Writes
// (Set, Delete) go to the room's owner, which serialises them per room and
// writes them through to the store before it announces and returns; reads
// (Summary, Own) may be served from the store. On a single node it is
// node/owner's Local; a cluster's forwarder sends writes to the ring owner
// of t.Room.
type ResourceReactions interface {
	Set(ctx context.Context, t reaction.Target, u op.User, reaction string) error
	Delete(ctx context.Context, t reaction.Target, u op.User) error
	Summary(ctx context.Context, resource, comment, viewerID string) (reaction.Summary, error)
	Own(ctx context.Context, resource, comment, userID string) (reaction.Own, error)
}

// resourceBody is the payload of the resource.reaction.* operations in both
// dialects. Valu names the resource "resource" in writes and "resourceId" in
// reads; either is accepted everywhere.
type resourceBody struct {
	Room       string `json:"room"`
	Resource   string `json:"resource"`
	ResourceID string `json:"resourceId"`
	Comment    string `json:"comment"`
	Reaction   string `json:"reaction"`
}

func (b *resourceBody) resource() string {
	if b.Resource != "" {
		return b.Resource
	}
	return b.ResourceID
}

// resourceOp dispatches the resource.reaction.* operations.
//
// Permissions: set and delete name a room and need room:view and room:react
// in it (the room's members hear of the change); get and own need nothing
// beyond authentication unless they name a room, which then needs room:view.
func (c *Client) resourceOp(ctx context.Context, req op.Request) (any, *op.Error) {
	res := c.eng.resources
	if res == nil {
		return nil, op.Errorf(op.CodeUnavailable, "resource reactions are not available on this node")
	}
	var b resourceBody
	if err := decode(req.Body, &b); err != nil {
		return nil, err
	}
	write := req.Kind == op.ResourceReactionSet || req.Kind == op.ResourceReactionDel
	if write && b.Room == "" {
		return nil, op.Errorf(op.CodeBadRequest, "room is required")
	}
	if b.Room != "" {
		v, err := c.eng.view(c.user, b.Room)
		if err != nil {
			return nil, err
		}
		if !v.perms.Has(auth.RoomView) {
			return nil, denied("room:view")
		}
		if write && !v.perms.Has(auth.RoomReact) {
			return nil, denied("room:react")
		}
	}
	t := reaction.Target{Room: b.Room, Resource: b.resource(), Comment: b.Comment}
	switch req.Kind {
	case op.ResourceReactionSet:
		if err := res.Set(ctx, t, c.public, b.Reaction); err != nil {
			return nil, c.eng.internal(ctx, string(req.Kind), err)
		}
		return Empty{}, nil
	case op.ResourceReactionDel:
		if err := res.Delete(ctx, t, c.public); err != nil {
			return nil, c.eng.internal(ctx, string(req.Kind), err)
		}
		return Empty{}, nil
	case op.ResourceReactionGet:
		s, err := res.Summary(ctx, t.Resource, t.Comment, c.user.ID)
		if err != nil {
			return nil, c.eng.internal(ctx, string(req.Kind), err)
		}
		return s, nil
	default: // op.ResourceReactionOwn
		o, err := res.Own(ctx, t.Resource, t.Comment, c.user.ID)
		if err != nil {
			return nil, c.eng.internal(ctx, string(req.Kind), err)
		}
		return o, nil
	}
}
