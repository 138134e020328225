package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/roomring/roomring/node/store"
)

// bucketWorldReactions holds lp(world) → uvarint count of the resource
// reactions stored with that World ("" is the built-in world, hence lp:
// bbolt keys are never empty), kept in the transaction that writes a
// reaction. Earlier versions counted in bucketLegacyWorlds, keyed by the
// bare world and without the built-in world; migrateReactions replaces it.
var (
	bucketWorldReactions = []byte("resource_reaction_world_counts")
	bucketLegacyWorlds   = []byte("resource_reaction_worlds")
)

func worldKey(world string) []byte { return appendLP(nil, world) }

// worldCount returns the reactions counted for world.
func worldCount(b *bolt.Bucket, world string) int {
	n, _ := binary.Uvarint(b.Get(worldKey(world)))
	return int(n)
}

// addToWorld counts a new reaction of world. With max > 0 it is refused
// with store.ErrQuotaExceeded when the world already holds max or more.
func addToWorld(tx *bolt.Tx, world string, max int) error {
	b := tx.Bucket(bucketWorldReactions)
	if max > 0 && worldCount(b, world) >= max {
		return store.ErrQuotaExceeded
	}
	if err := addTarget(b, worldKey(world), 1); err != nil {
		return fmt.Errorf("count reactions of world %q: %w", world, err)
	}
	return nil
}

// removeFromWorld uncounts a deleted reaction of world.
func removeFromWorld(tx *bolt.Tx, world string) error {
	if err := addTarget(tx.Bucket(bucketWorldReactions), worldKey(world), -1); err != nil {
		return fmt.Errorf("count reactions of world %q: %w", world, err)
	}
	return nil
}

// WorldReactions implements store.Store.
func (s *Store) WorldReactions(_ context.Context, world string) (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = worldCount(tx.Bucket(bucketWorldReactions), world)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count reactions of world %q: %w", world, err)
	}
	return n, nil
}

// bucketLegacyReactions is where earlier versions kept resource reactions:
// uvarint(len(resource)) resource uvarint(len(comment)) comment user, no
// world in the key (so one user's reaction was shared by every world).
var bucketLegacyReactions = []byte("resource_reactions")

// migrateReactions moves the reactions of bucketLegacyReactions, when the
// store has it, into bucketReactions under the world each row recorded
// (rows from before worlds have "": the built-in world), counts every
// world into the empty bucketWorldReactions — the legacy count left world
// "" out — and drops the legacy buckets. It runs in Open's transaction, so
// it happens once and whole.
func migrateReactions(tx *bolt.Tx) error {
	legacy := tx.Bucket(bucketLegacyReactions)
	if legacy == nil {
		return nil
	}
	to := tx.Bucket(bucketReactions)
	counts := map[string]uint64{}
	err := legacy.ForEach(func(k, v []byte) error {
		key, err := legacyKey(k)
		if err != nil {
			return err
		}
		var rv reactionValue
		if err := json.Unmarshal(v, &rv); err != nil {
			return fmt.Errorf("decode reaction of %q on %q: %w", key.UserID, key.Resource, err)
		}
		key.World = rv.World
		counts[rv.World]++
		return to.Put(reactionKey(key), v)
	})
	if err != nil {
		return fmt.Errorf("move resource reactions into their worlds: %w", err)
	}
	wb := tx.Bucket(bucketWorldReactions)
	for w, n := range counts {
		if err := wb.Put(worldKey(w), binary.AppendUvarint(nil, n)); err != nil {
			return err
		}
	}
	if err := tx.DeleteBucket(bucketLegacyWorlds); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
		return err
	}
	return tx.DeleteBucket(bucketLegacyReactions)
}

// legacyKey parses a key of bucketLegacyReactions.
func legacyKey(k []byte) (store.ReactionKey, error) {
	var out store.ReactionKey
	for _, f := range []*string{&out.Resource, &out.Comment} {
		n, w := binary.Uvarint(k)
		if w <= 0 || uint64(len(k)-w) < n {
			return store.ReactionKey{}, fmt.Errorf("malformed resource reaction key %q", k)
		}
		*f, k = string(k[w:w+int(n)]), k[w+int(n):]
	}
	out.UserID = string(k)
	return out, nil
}
