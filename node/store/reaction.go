package store

import (
	"context"
	"errors"
	"time"
)

// ReactionKey identifies one user's reaction: one per user per (resource,
// comment) per world. An empty Comment means the resource itself. World is
// part of the identity: the same resource and user ids in two worlds are
// two independent reactions. World "" is the built-in world (the node's
// --world), whatever its id; rows stored before worlds were recorded have
// it too, so they stay the built-in world's.
type ReactionKey struct {
	World    string
	Resource string
	Comment  string
	UserID   string
}

// ResourceReaction is one stored resource reaction.
type ResourceReaction struct {
	ReactionKey
	// Room is the room the reaction was made in: the row counts against
	// that room's quotas (ReactionUsage). Rows stored before rooms were
	// recorded have Room "".
	Room     string
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
	// same resource and comment in the same world (r.World, part of the
	// key). With worldMax > 0 it is refused with ErrQuotaExceeded, storing
	// nothing, when it would add a reaction to r.World (no reaction under
	// the key) while the world already holds worldMax or more; a
	// replacement is never refused. The count is the store's, kept in the
	// transaction of every write, so it holds for writers on any node.
	PutReaction(ctx context.Context, r ResourceReaction, worldMax int) error
	// DeleteReaction removes the reaction under k and returns it, or
	// ErrNotFound when there was none.
	DeleteReaction(ctx context.Context, k ReactionKey) (ResourceReaction, error)
	// Reaction returns the reaction under k, or ErrNotFound.
	Reaction(ctx context.Context, k ReactionKey) (ResourceReaction, error)
	// ReactionsOf calls fn for every reaction of world to (resource,
	// comment) in user id order, stopping early when fn returns false.
	// Other worlds' reactions to the same ids are not read.
	ReactionsOf(ctx context.Context, world, resource, comment string, fn func(ResourceReaction) bool) error
	// ReactionUsage counts what room holds, for its owner's quotas: the
	// reactions of k.UserID made in room, the distinct (resource, comment)
	// targets with a reaction made in room, and whether (k.Resource,
	// k.Comment) is one of them. Its cost grows with those counts, which
	// the quotas bound. k.World is not read: a room belongs to one world.
	ReactionUsage(ctx context.Context, room string, k ReactionKey) (ReactionUsage, error)
	// WorldReactions counts the reactions stored with World world ("":
	// the built-in world's, rows from before worlds included).
	WorldReactions(ctx context.Context, world string) (int, error)
}

// ErrQuotaExceeded is returned by a PutReaction refused by its world's
// quota.
var ErrQuotaExceeded = errors.New("store: world quota of resource reactions exceeded")

// ReactionUsage is what a room holds, as ReactionUsage counts it.
type ReactionUsage struct {
	// UserReactions counts the user's reactions made in the room.
	UserReactions int
	// Targets counts the distinct (resource, comment) pairs with a
	// reaction made in the room.
	Targets int
	// HasTarget tells whether the asked (resource, comment) has a
	// reaction made in the room.
	HasTarget bool
}
