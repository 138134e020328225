package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/roomring/roomring/node/store"
)

// bucketReactions holds resource reactions under
// lp(world) lp(resource) lp(comment) user (lp as in usage.go), so the
// reactions of one world's (resource, comment) are one key prefix whatever
// bytes the ids contain, and the same ids in two worlds are two keys.
// World "" is the built-in world. Stores of earlier versions kept them in
// bucketLegacyReactions, without the world in the key; Open moves them
// (migrateReactions).
var bucketReactions = []byte("resource_reactions_by_world")

type reactionValue struct {
	Room      string    `json:"room,omitempty"`
	World     string    `json:"world,omitempty"`
	Reaction  string    `json:"reaction"`
	Incognito bool      `json:"incognito,omitempty"`
	Updated   time.Time `json:"updated"`
}

func reactionPrefix(world, resource, comment string) []byte {
	return appendLP(nil, world, resource, comment)
}

func reactionKey(k store.ReactionKey) []byte {
	return append(reactionPrefix(k.World, k.Resource, k.Comment), k.UserID...)
}

func decodeReaction(k store.ReactionKey, v []byte) (store.ResourceReaction, error) {
	var rv reactionValue
	if err := json.Unmarshal(v, &rv); err != nil {
		return store.ResourceReaction{}, fmt.Errorf("decode reaction of %q on %q: %w", k.UserID, k.Resource, err)
	}
	return store.ResourceReaction{ReactionKey: k, Room: rv.Room, Reaction: rv.Reaction, Incognito: rv.Incognito, Updated: rv.Updated}, nil
}

func encodeReaction(r store.ResourceReaction) ([]byte, error) {
	v, err := json.Marshal(reactionValue{Room: r.Room, World: r.World, Reaction: r.Reaction, Incognito: r.Incognito, Updated: r.Updated.UTC()})
	if err != nil {
		return nil, fmt.Errorf("encode reaction: %w", err)
	}
	return v, nil
}

// PutReaction implements store.Store. The world count is checked and
// kept in the write's transaction; bbolt runs one at a time.
func (s *Store) PutReaction(_ context.Context, r store.ResourceReaction, worldMax int) error {
	v, err := encodeReaction(r)
	if err != nil {
		return err
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReactions)
		key := reactionKey(r.ReactionKey)
		old := b.Get(key)
		if old == nil {
			if err := addToWorld(tx, r.World, worldMax); err != nil {
				return err
			}
		} else {
			o, err := decodeReaction(r.ReactionKey, old)
			if err != nil {
				return err
			}
			if err := unindex(tx, o.Room, r.ReactionKey); err != nil {
				return err
			}
		}
		if err := index(tx, r.Room, r.ReactionKey); err != nil {
			return err
		}
		return b.Put(key, v)
	}); err != nil {
		return fmt.Errorf("put reaction: %w", err)
	}
	return nil
}

// DeleteReaction implements store.Store.
func (s *Store) DeleteReaction(_ context.Context, k store.ReactionKey) (store.ResourceReaction, error) {
	var out store.ResourceReaction
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReactions)
		key := reactionKey(k)
		v := b.Get(key)
		if v == nil {
			return store.ErrNotFound
		}
		r, err := decodeReaction(k, v)
		if err != nil {
			return err
		}
		out = r
		if err := removeFromWorld(tx, k.World); err != nil {
			return err
		}
		if err := unindex(tx, r.Room, k); err != nil {
			return err
		}
		return b.Delete(key)
	})
	return out, err
}

// Reaction implements store.Store.
func (s *Store) Reaction(_ context.Context, k store.ReactionKey) (store.ResourceReaction, error) {
	var out store.ResourceReaction
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketReactions).Get(reactionKey(k))
		if v == nil {
			return store.ErrNotFound
		}
		r, err := decodeReaction(k, v)
		out = r
		return err
	})
	return out, err
}

// ReactionsOf implements store.Store.
func (s *Store) ReactionsOf(_ context.Context, world, resource, comment string, fn func(store.ResourceReaction) bool) error {
	prefix := reactionPrefix(world, resource, comment)
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketReactions).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			key := store.ReactionKey{World: world, Resource: resource, Comment: comment, UserID: string(k[len(prefix):])}
			r, err := decodeReaction(key, v)
			if err != nil {
				return err
			}
			if !fn(r) {
				return nil
			}
		}
		return nil
	})
}
