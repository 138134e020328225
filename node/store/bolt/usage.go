package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/roomring/roomring/node/store"
)

// The room indexes of resource reactions, kept in the transaction that
// writes a reaction, so a room's owner can count what the room holds
// (ReactionUsage) by scanning only that room's keys:
//
//   - bucketRoomUsers: lp(room) lp(user) lp(resource) lp(comment) → empty,
//     one key per reaction;
//   - bucketRoomTargets: lp(room) lp(resource) lp(comment) → uvarint count
//     of the reactions to that target made in the room.
//
// lp(s) is uvarint(len(s)) s, so no key is a prefix of another by accident.
// Reactions stored before the indexes existed are in no index; removing a
// missing entry is not an error.
var (
	bucketRoomUsers   = []byte("resource_reaction_room_users")
	bucketRoomTargets = []byte("resource_reaction_room_targets")
)

func appendLP(b []byte, ss ...string) []byte {
	for _, s := range ss {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

func roomUserKey(room string, k store.ReactionKey) []byte {
	return appendLP(nil, room, k.UserID, k.Resource, k.Comment)
}

func roomTargetKey(room string, k store.ReactionKey) []byte {
	return appendLP(nil, room, k.Resource, k.Comment)
}

// index records a reaction under k made in room.
func index(tx *bolt.Tx, room string, k store.ReactionKey) error {
	if err := tx.Bucket(bucketRoomUsers).Put(roomUserKey(room, k), nil); err != nil {
		return fmt.Errorf("index reaction by user: %w", err)
	}
	return addTarget(tx.Bucket(bucketRoomTargets), roomTargetKey(room, k), 1)
}

// unindex forgets a reaction under k made in room.
func unindex(tx *bolt.Tx, room string, k store.ReactionKey) error {
	users := tx.Bucket(bucketRoomUsers)
	key := roomUserKey(room, k)
	if users.Get(key) == nil {
		return nil // stored before the indexes
	}
	if err := users.Delete(key); err != nil {
		return fmt.Errorf("unindex reaction by user: %w", err)
	}
	return addTarget(tx.Bucket(bucketRoomTargets), roomTargetKey(room, k), -1)
}

// addTarget adds d to a target's count, deleting it at zero.
func addTarget(b *bolt.Bucket, key []byte, d int64) error {
	var n uint64
	if v := b.Get(key); v != nil {
		n, _ = binary.Uvarint(v)
	}
	next := int64(n) + d
	var err error
	if next <= 0 {
		err = b.Delete(key)
	} else {
		err = b.Put(key, binary.AppendUvarint(nil, uint64(next)))
	}
	if err != nil {
		return fmt.Errorf("count reactions of a target: %w", err)
	}
	return nil
}

func countPrefix(b *bolt.Bucket, prefix []byte) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	return n
}

// ReactionUsage implements store.Store in one read transaction.
func (s *Store) ReactionUsage(_ context.Context, room string, k store.ReactionKey) (store.ReactionUsage, error) {
	var u store.ReactionUsage
	err := s.db.View(func(tx *bolt.Tx) error {
		u.UserReactions = countPrefix(tx.Bucket(bucketRoomUsers), appendLP(nil, room, k.UserID))
		targets := tx.Bucket(bucketRoomTargets)
		u.Targets = countPrefix(targets, appendLP(nil, room))
		u.HasTarget = targets.Get(roomTargetKey(room, k)) != nil
		return nil
	})
	if err != nil {
		return store.ReactionUsage{}, fmt.Errorf("count reactions of room %q: %w", room, err)
	}
	return u, nil
}
