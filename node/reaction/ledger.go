package reaction

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/store"
)

// Announcer publishes an event to the edges that hold a room's members; the
// room owner (room.Manager) is one.
type Announcer interface {
	Announce(room string, ev *op.Event)
}

// Target is what a write is about: the room whose members hear of it and the
// (resource, comment) reacted to, and the world the room belongs to.
type Target struct {
	Room     string
	Resource string
	Comment  string
	// World is the room's world and its quota; a cluster's edge sends it
	// to the owner with the write. Its ID is part of the reaction's key.
	// A write without one (an edge of a version before worlds) is the
	// built-in world's.
	World World `json:",omitzero"`
}

// World is the world a write is made in, as the client's world
// configuration tells it on the node that serves the client.
type World struct {
	// ID is the world's id in the store (catalog.Scope.Stored): "" for
	// the built-in world. It is part of the reaction's key: the same
	// resource and user ids in two worlds are two reactions.
	ID string
	// MaxReactions bounds the resource reactions stored in the world, all
	// its rooms and the whole pool together (World
	// spec.quotas.resourceReactions); 0: no bound.
	MaxReactions int `json:",omitempty"`
}

// Ledger is the owner's book of resource reactions: it serialises and
// stores the resource reactions of the rooms this node owns. It is safe
// for concurrent use.
type Ledger struct {
	cfg   Config
	store store.ResourceReactions
	ann   Announcer
	now   func() time.Time
	rate  *writeLimiter

	mu    sync.Mutex
	rooms map[string]*roomLock // rooms with a write in progress
}

type roomLock struct {
	mu   sync.Mutex
	refs int // writers holding or waiting for mu; guarded by Ledger.mu
}

// NewLedger returns a Ledger writing to st and announcing through ann.
func NewLedger(cfg Config, st store.ResourceReactions, ann Announcer) *Ledger {
	return &Ledger{cfg: cfg, store: st, ann: ann, now: time.Now, rate: newWriteLimiter(cfg), rooms: map[string]*roomLock{}}
}

// lockRoom serialises writes of one room; the returned func unlocks. Only
// rooms with writers in flight have an entry.
func (o *Ledger) lockRoom(room string) func() {
	o.mu.Lock()
	l := o.rooms[room]
	if l == nil {
		l = &roomLock{}
		o.rooms[room] = l
	}
	l.refs++
	o.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		o.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(o.rooms, room)
		}
		o.mu.Unlock()
	}
}

// Set stores u's reaction to t, replacing u's earlier one, and announces
// resource.reaction.updated to the room once the write is durable. A write
// over u's rate fails with op.CodeRateLimited; one that would add a
// reaction over the room's quotas with op.CodeQuotaExceeded (quota.go).
func (o *Ledger) Set(ctx context.Context, t Target, u op.User, reaction string) error {
	if err := o.cfg.checkTarget(t.Resource, t.Comment); err != nil {
		return err
	}
	if err := o.cfg.checkReaction(reaction); err != nil {
		return err
	}
	if err := o.admit(u.ID); err != nil {
		return err
	}
	unlock := o.lockRoom(t.Room)
	defer unlock()
	key := store.ReactionKey{World: t.World.ID, Resource: t.Resource, Comment: t.Comment, UserID: u.ID}
	if err := o.checkQuota(ctx, t.Room, key); err != nil {
		return err
	}
	r := store.ResourceReaction{
		ReactionKey: key, Room: t.Room, Reaction: reaction, Incognito: u.Incognito, Updated: o.stamp(),
	}
	if err := o.store.PutReaction(ctx, r, t.World.MaxReactions); err != nil {
		if errors.Is(err, store.ErrQuotaExceeded) {
			return worldFull(t.World)
		}
		return fmt.Errorf("set reaction on %q: %w", t.Resource, err)
	}
	o.ann.Announce(t.Room, op.NewResourceReactionUpdated(event(t, u, r)))
	return nil
}

// Delete removes u's reaction to t and announces
// resource.reaction.deleted. Deleting a reaction that does not exist
// succeeds without an event.
func (o *Ledger) Delete(ctx context.Context, t Target, u op.User) error {
	if err := o.cfg.checkTarget(t.Resource, t.Comment); err != nil {
		return err
	}
	if err := o.admit(u.ID); err != nil {
		return err
	}
	unlock := o.lockRoom(t.Room)
	defer unlock()
	old, err := o.store.DeleteReaction(ctx, store.ReactionKey{World: t.World.ID, Resource: t.Resource, Comment: t.Comment, UserID: u.ID})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete reaction on %q: %w", t.Resource, err)
	}
	old.Updated = o.stamp()
	o.ann.Announce(t.Room, op.NewResourceReactionDeleted(event(t, u, old)))
	return nil
}

func (o *Ledger) stamp() time.Time { return o.now().UTC().Truncate(time.Millisecond) }

// event is what an event about u's reaction r to t tells.
func event(t Target, u op.User, r store.ResourceReaction) op.ResourceReaction {
	return op.ResourceReaction{Room: t.Room, Resource: t.Resource, Comment: t.Comment, Reaction: r.Reaction, Updated: r.Updated, User: u}
}

// Summary returns world's reactions to (resource, comment) as viewerID
// sees them: identified users' reactions (newest first, at most
// MaxListed), everyone's total and viewerID's own reaction. world is a
// World.ID; other worlds' reactions to the same ids are not counted.
func (o *Ledger) Summary(ctx context.Context, world, resource, comment, viewerID string) (Summary, error) {
	if err := o.cfg.checkTarget(resource, comment); err != nil {
		return Summary{}, err
	}
	s := Summary{Reactions: [][2]string{}}
	var listed []store.ResourceReaction
	newestFirst := func(a, b store.ResourceReaction) int {
		if c := b.Updated.Compare(a.Updated); c != 0 {
			return c
		}
		return cmp.Compare(a.UserID, b.UserID)
	}
	err := o.store.ReactionsOf(ctx, world, resource, comment, func(r store.ResourceReaction) bool {
		s.Total++
		if r.UserID == viewerID {
			s.OwnReaction = r.Reaction
		}
		if !r.Incognito {
			listed = append(listed, r)
			// Keep memory bounded by 2×MaxListed whatever the total.
			if len(listed) >= 2*o.cfg.MaxListed {
				slices.SortFunc(listed, newestFirst)
				listed = listed[:o.cfg.MaxListed]
			}
		}
		return true
	})
	if err != nil {
		return Summary{}, fmt.Errorf("read reactions of %q: %w", resource, err)
	}
	slices.SortFunc(listed, newestFirst)
	if len(listed) > o.cfg.MaxListed {
		listed = listed[:o.cfg.MaxListed]
	}
	for _, r := range listed {
		s.Reactions = append(s.Reactions, [2]string{r.UserID, r.Reaction})
	}
	return s, nil
}

// Own returns userID's reaction to (resource, comment) in world (a
// World.ID), "" when none.
func (o *Ledger) Own(ctx context.Context, world, resource, comment, userID string) (Own, error) {
	if err := o.cfg.checkTarget(resource, comment); err != nil {
		return Own{}, err
	}
	r, err := o.store.Reaction(ctx, store.ReactionKey{World: world, Resource: resource, Comment: comment, UserID: userID})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Own{}, nil
	case err != nil:
		return Own{}, fmt.Errorf("read own reaction on %q: %w", resource, err)
	}
	return Own{OwnReaction: r.Reaction}, nil
}
