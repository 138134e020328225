package reaction

import (
	"context"
	"errors"
	"fmt"

	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/store"
)

// admit takes a token from the user's write bucket (Config.WriteRate).
func (o *Ledger) admit(userID string) error {
	if o.rate.allow(userID, o.now()) {
		return nil
	}
	return op.Errorf(op.CodeRateLimited, "too many resource reaction writes: at most %g a second (bursts of %d); slow down",
		o.cfg.WriteRate, o.cfg.WriteBurst)
}

// checkQuota refuses a write under k in room that would add a reaction
// over the room's quotas (Config.MaxPerUser, Config.MaxTargets). Replacing
// the user's reaction made in the same room adds nothing and is never
// refused. It must be called with the room's lock held, so the counts
// cannot change before the write.
func (o *Ledger) checkQuota(ctx context.Context, room string, k store.ReactionKey) error {
	old, err := o.store.Reaction(ctx, k)
	switch {
	case err == nil && old.Room == room:
		return nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("read reaction on %q: %w", k.Resource, err)
	}
	use, err := o.store.ReactionUsage(ctx, room, k)
	if err != nil {
		return fmt.Errorf("check quotas: %w", err)
	}
	if use.UserReactions >= o.cfg.MaxPerUser {
		return op.Errorf(op.CodeQuotaExceeded, "at most %d resource reactions per user in a room; delete one first", o.cfg.MaxPerUser)
	}
	if !use.HasTarget && use.Targets >= o.cfg.MaxTargets {
		return op.Errorf(op.CodeQuotaExceeded, "this room has reactions to %d resources and comments, the most allowed; react to one of them", o.cfg.MaxTargets)
	}
	return nil
}

// worldFull is the error of a write refused by w's quota: the store holds
// w.MaxReactions or more of the world's reactions (store.PutReaction).
func worldFull(w World) error {
	return op.Errorf(op.CodeQuotaExceeded, "this world holds %d resource reactions, the most it may; delete one first", w.MaxReactions)
}
