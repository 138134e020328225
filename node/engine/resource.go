package engine

import (
	"context"

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
	// Summary and Own read one world's reactions: world is a
	// reaction.World.ID (catalog.Scope.Stored, "" for the built-in world).
	Summary(ctx context.Context, world, resource, comment, viewerID string) (reaction.Summary, error)
	Own(ctx context.Context, world, resource, comment, userID string) (reaction.Own, error)
}

// The handlers of the resource reaction operations. Their routes
// (dispatch.go) check that the node serves resource reactions and, when
// the operation names a room, room:view in it; writes must name a room and
// need room:react too (the room's members hear of the change).

// target is what a write of the client is about: its world goes with it,
// as part of the reaction's key and so the owner counts it against the
// world's quota.
func (c *Client) target(t op.ResourceTarget) reaction.Target {
	w := reaction.World{ID: c.eng.scope.Stored(), MaxReactions: c.eng.settings().cfg.Quotas.ResourceReactions}
	return reaction.Target{Room: t.Room, Resource: t.Resource, Comment: t.Comment, World: w}
}

func (c *Client) setResourceReaction(ctx context.Context, o op.SetResourceReaction, _ roomView) (op.Result, *op.Error) {
	if err := c.eng.resources.Set(ctx, c.target(o.Target), c.user.Public(), o.Reaction); err != nil {
		return nil, c.eng.internal(ctx, op.KindSetResourceReaction, err)
	}
	return op.Done{}, nil
}

func (c *Client) deleteResourceReaction(ctx context.Context, o op.DeleteResourceReaction, _ roomView) (op.Result, *op.Error) {
	if err := c.eng.resources.Delete(ctx, c.target(o.Target), c.user.Public()); err != nil {
		return nil, c.eng.internal(ctx, op.KindDeleteResourceReaction, err)
	}
	return op.Done{}, nil
}

func (c *Client) resourceReactions(ctx context.Context, o op.GetResourceReactions, _ roomView) (op.Result, *op.Error) {
	s, err := c.eng.resources.Summary(ctx, c.eng.scope.Stored(), o.Target.Resource, o.Target.Comment, c.user.ID)
	if err != nil {
		return nil, c.eng.internal(ctx, op.KindGetResourceReactions, err)
	}
	return op.ResourceReactions{Reactions: s.Reactions, Total: s.Total, Own: s.OwnReaction}, nil
}

func (c *Client) ownResourceReaction(ctx context.Context, o op.GetOwnResourceReaction, _ roomView) (op.Result, *op.Error) {
	own, err := c.eng.resources.Own(ctx, c.eng.scope.Stored(), o.Target.Resource, o.Target.Comment, c.user.ID)
	if err != nil {
		return nil, c.eng.internal(ctx, op.KindGetOwnResourceReaction, err)
	}
	return op.OwnResourceReaction{Reaction: own.OwnReaction}, nil
}
