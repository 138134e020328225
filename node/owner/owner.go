// Package owner is the one room owner of a node: the soft state of the
// rooms it owns (node/room) and their resource reactions (node/reaction)
// behind one type, Local. A standalone node's engine calls it directly; a
// cluster member's owner server (node/cluster) wraps it and serves it to
// the edges of the pool. The two modes differ only in what sits in front
// (a forwarder) and behind (a Publisher to the edges).
package owner

import (
	"context"
	"slices"

	"github.com/roomring/roomring/node/edge"
	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/reaction"
	"github.com/roomring/roomring/node/room"
	"github.com/roomring/roomring/node/store"
)

// Publisher delivers an owner's events to the edges that hold a room's
// members (room.Publisher): EdgePublisher on a single node, the cluster's
// publisher on a member of a pool. Publish is called with the room's lock
// held; it must not block and must not call back into the owner.
type Publisher = room.Publisher

// Config tunes the owner.
type Config struct {
	Room     room.Config
	Reaction reaction.Config
}

// Local owns the rooms this node owns: viewers, reaction aggregation,
// schedule announcements and resource-reaction writes. It is the engine's
// Owner and ResourceReactions on a single node. It is safe for concurrent
// use: room.Manager locks each room's state, reaction.Ledger serialises each
// room's writes; Local itself holds no state of its own.
type Local struct {
	rooms     *room.Manager
	reactions *reaction.Ledger
}

// New starts a Local that publishes through pub and writes resource
// reactions to st. Close stops it.
func New(cfg Config, st store.ResourceReactions, pub Publisher) *Local {
	rooms := room.NewManager(cfg.Room, pub)
	return &Local{rooms: rooms, reactions: reaction.NewLedger(cfg.Reaction, st, rooms)}
}

// Rooms is the rooms' soft state, for what only an owner's own node does
// with it: rebuilding it from the edges' announcements (node/cluster),
// counting viewers (the admin pool) and metrics.
func (l *Local) Rooms() *room.Manager { return l.rooms }

// Close stops the reaction aggregation. It is idempotent.
func (l *Local) Close() { l.rooms.Close() }

// Enter records that u is present in the room through edge and, when
// withViewers, returns the room's visible viewers; without, it answers
// nothing and costs constant time instead of the room's size.
func (l *Local) Enter(_ context.Context, r string, u op.User, edge string, withViewers bool) ([]op.User, error) {
	if !withViewers {
		l.rooms.Join(r, u, edge)
		return nil, nil
	}
	return l.rooms.Enter(r, u, edge), nil
}

// Leave records that the user has no session in the room through edge.
func (l *Local) Leave(_ context.Context, r, uid, edge string) {
	l.rooms.Leave(r, uid, edge)
}

// React counts a reaction in the room's aggregation window.
func (l *Local) React(_ context.Context, r, uid, reaction string) error {
	l.rooms.React(r, uid, reaction)
	return nil
}

// Announce publishes ev to the room's members.
func (l *Local) Announce(_ context.Context, r string, ev *op.Event) error {
	l.rooms.Announce(r, ev)
	return nil
}

// Forget drops the room's soft state.
func (l *Local) Forget(_ context.Context, r string) error {
	l.rooms.Forget(r)
	return nil
}

// Set stores u's resource reaction and announces it to the room.
func (l *Local) Set(ctx context.Context, t reaction.Target, u op.User, r string) error {
	return l.reactions.Set(ctx, t, u, r)
}

// Delete removes u's resource reaction and announces it to the room.
func (l *Local) Delete(ctx context.Context, t reaction.Target, u op.User) error {
	return l.reactions.Delete(ctx, t, u)
}

// Summary reads a world's reactions to a resource from the store.
func (l *Local) Summary(ctx context.Context, world, resource, comment, viewerID string) (reaction.Summary, error) {
	return l.reactions.Summary(ctx, world, resource, comment, viewerID)
}

// Own reads a user's reaction to a resource in a world from the store.
func (l *Local) Own(ctx context.Context, world, resource, comment, userID string) (reaction.Own, error) {
	return l.reactions.Own(ctx, world, resource, comment, userID)
}

// EdgePublisher delivers an owner's events to this node's edge: the whole
// of publishing on a single node, and this node's share of it in a
// cluster. It never blocks (edge.Post queues, bounded). World events of
// catalog changes go out through node/announce, not through owners; the
// owners' one world event is a room's occupancy (world.user_count_change).
type EdgePublisher struct{ Edge *edge.Edge }

// Publish implements Publisher: the event goes to this node's sessions
// when this node's edge is among edges, or when it is a world event.
func (p EdgePublisher) Publish(edges []string, ev *op.Event) {
	if ev.Audience == op.ToWorld || slices.Contains(edges, p.Edge.ID()) {
		p.Edge.Post(ev) // under the room's lock: never wait for a fan-out
	}
}
