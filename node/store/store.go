// Package store defines the durable storage a node writes through to: the
// room catalog (standalone mode), anonymous invites and resource reactions.
// Implementations live in subpackages (bolt: embedded, single node;
// postgres: shared by the nodes of a cluster).
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when a key does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrUnavailable is wrapped by the errors of an operation that failed
// because the store could not be reached (a networked store's database is
// down, unreachable or did not answer in time). The operation may be retried
// later; a write that failed with it was not acknowledged, though it may
// still have been applied (its commit's outcome can be unknown). Callers map
// it to op.CodeUnavailable.
var ErrUnavailable = errors.New("store: unavailable")

// Invite is an anonymous invite: a short code that lets its redeemer enter one room.
type Invite struct {
	Code    string    `json:"code"`
	Room    string    `json:"room"`
	Expires time.Time `json:"expires"`
}

// Store is a node's durable state. Implementations are safe for concurrent
// use; every method returns only after the write is durable.
type Store interface {
	// Rooms returns every stored room record (opaque JSON, keyed by room id).
	Rooms(ctx context.Context) (map[string][]byte, error)
	// PutRooms writes the given room records in one transaction.
	PutRooms(ctx context.Context, rooms map[string][]byte) error
	// DeleteRoom removes a room record and the room's invites.
	DeleteRoom(ctx context.Context, id string) error

	// PutInvite stores inv under its code.
	PutInvite(ctx context.Context, inv Invite) error
	// Invite returns the invite with code, or ErrNotFound.
	Invite(ctx context.Context, code string) (Invite, error)
	// RoomInvite returns the newest invite of room, or ErrNotFound.
	RoomInvite(ctx context.Context, room string) (Invite, error)

	// ResourceReactions holds resource reactions (see reaction.go).
	ResourceReactions

	// Close flushes and releases the store.
	Close() error
}
