package store

import (
	"context"
	"time"
)

// ReactionKey identifies one user's reaction: one per user per (resource,
// comment). An empty Comment means the resource itself.
type ReactionKey struct {
	Resource string
	Comment  string
	UserID   string
}

// ResourceReaction is one stored resource reaction.
type ResourceReaction struct {
	ReactionKey
	Reaction string
	// Incognito records the user's privacy mode when they reacted: such
	// reactions are counted but never attributed.
	Incognito bool
	Updated   time.Time
}

// ResourceReactions is the durable side of resource reactions. Writes are
// serialised per room by the room's owner before they get here; the store
// only guarantees that each call is atomic and durable when it returns.
type ResourceReactions interface {
	// PutReaction stores r, replacing the user's earlier reaction to the
	// same resource and comment.
	PutReaction(ctx context.Context, r ResourceReaction) error
	// DeleteReaction removes the reaction under k and returns it, or
	// ErrNotFound when there was none.
	DeleteReaction(ctx context.Context, k ReactionKey) (ResourceReaction, error)
	// Reaction returns the reaction under k, or ErrNotFound.
	Reaction(ctx context.Context, k ReactionKey) (ResourceReaction, error)
	// ReactionsOf calls fn for every reaction to (resource, comment) in
	// user id order, stopping early when fn returns false.
	ReactionsOf(ctx context.Context, resource, comment string, fn func(ResourceReaction) bool) error
}
