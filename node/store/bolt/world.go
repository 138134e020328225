package bolt

import (
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/roomring/roomring/node/store"
)

// bucketWorldReactions holds world → uvarint count of the resource
// reactions stored with that World, kept in the transaction that writes a
// reaction. Rows of World "" (stored before worlds were recorded) are not
// counted.
var bucketWorldReactions = []byte("resource_reaction_worlds")

// worldCount returns the reactions counted for world.
func worldCount(b *bolt.Bucket, world string) int {
	n, _ := binary.Uvarint(b.Get([]byte(world)))
	return int(n)
}

// moveWorld records that the reaction under a key moves from world from
// ("" when it is new or was uncounted) to world to ("" when it is
// deleted). With max > 0 a move that adds a reaction to a world already
// holding max or more is refused with store.ErrQuotaExceeded.
func moveWorld(tx *bolt.Tx, from, to string, max int) error {
	if from == to {
		return nil
	}
	b := tx.Bucket(bucketWorldReactions)
	if to != "" && max > 0 && worldCount(b, to) >= max {
		return store.ErrQuotaExceeded
	}
	if from != "" {
		if err := addTarget(b, []byte(from), -1); err != nil {
			return fmt.Errorf("count reactions of world %q: %w", from, err)
		}
	}
	if to != "" {
		if err := addTarget(b, []byte(to), 1); err != nil {
			return fmt.Errorf("count reactions of world %q: %w", to, err)
		}
	}
	return nil
}

// WorldReactions implements store.Store.
func (s *Store) WorldReactions(_ context.Context, world string) (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		if world != "" {
			n = worldCount(tx.Bucket(bucketWorldReactions), world)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count reactions of world %q: %w", world, err)
	}
	return n, nil
}
