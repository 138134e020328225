// Package bolt is the embedded Store of a standalone node: one bbolt file in
// the node's data directory.
package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/roomring/roomring/node/store"
)

var (
	bucketRooms       = []byte("rooms")
	bucketInvites     = []byte("invites")
	bucketRoomInvites = []byte("room_invites")
)

// Store is a store.Store backed by bbolt.
type Store struct {
	db *bolt.DB
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the store file in dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	db, err := bolt.Open(filepath.Join(dir, "roomring.db"), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open bolt store in %s: %w", dir, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketRooms, bucketInvites, bucketRoomInvites, bucketReactions, bucketRoomUsers, bucketRoomTargets, bucketWorldReactions} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return migrateReactions(tx)
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("init bolt buckets: %w", err)
	}
	return &Store{db: db}, nil
}

// Rooms implements store.Store.
func (s *Store) Rooms(context.Context) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRooms).ForEach(func(k, v []byte) error {
			out[string(k)] = append([]byte(nil), v...)
			return nil
		})
	})
	return out, err
}

// PutRooms implements store.Store.
func (s *Store) PutRooms(_ context.Context, rooms map[string][]byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRooms)
		for id, v := range rooms {
			if err := b.Put([]byte(id), v); err != nil {
				return err
			}
		}
		return migrateReactions(tx)
	})
}

// DeleteRoom implements store.Store.
func (s *Store) DeleteRoom(_ context.Context, id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketRooms).Delete([]byte(id)); err != nil {
			return err
		}
		ri := tx.Bucket(bucketRoomInvites)
		if code := ri.Get([]byte(id)); code != nil {
			if err := tx.Bucket(bucketInvites).Delete(code); err != nil {
				return err
			}
		}
		return ri.Delete([]byte(id))
	})
}

// PutInvite implements store.Store.
func (s *Store) PutInvite(_ context.Context, inv store.Invite) error {
	v, err := json.Marshal(inv)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketInvites).Put([]byte(inv.Code), v); err != nil {
			return err
		}
		return tx.Bucket(bucketRoomInvites).Put([]byte(inv.Room), []byte(inv.Code))
	})
}

// Invite implements store.Store.
func (s *Store) Invite(_ context.Context, code string) (store.Invite, error) {
	var inv store.Invite
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketInvites).Get([]byte(code))
		if v == nil {
			return store.ErrNotFound
		}
		return json.Unmarshal(v, &inv)
	})
	return inv, err
}

// RoomInvite implements store.Store.
func (s *Store) RoomInvite(ctx context.Context, room string) (store.Invite, error) {
	var code []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRoomInvites).Get([]byte(room))
		if c == nil {
			return store.ErrNotFound
		}
		code = append([]byte(nil), c...)
		return nil
	})
	if err != nil {
		return store.Invite{}, err
	}
	return s.Invite(ctx, string(code))
}

// Close implements store.Store. bbolt commits synchronously, so closing only
// releases the file lock.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil && !errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return err
	}
	return nil
}
