package admin

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/node/catalog"
)

// PutRoom is the body of PUT /internal/v1/rooms/{id}: the Room's spec as
// the API server holds it (defaults applied). The node converts it with
// catalog.FromSpec, so a spec the catalog rejects is 422 config.invalid.
type PutRoom struct {
	Spec v1alpha1.RoomSpec `json:"spec"`
}

// RoomStatus is what a node reports of a room.
type RoomStatus struct {
	ID string `json:"id"`
	// Config is the room's configuration as the pool serves it.
	Config *catalog.Room `json:"config"`
	// Owner is the member that owns the room's soft state ("" when the
	// pool has no members that can own it).
	Owner string `json:"owner"`
	// Viewers is the number of distinct users in the room.
	Viewers int `json:"viewers"`
	// Node is the member that answered.
	Node string `json:"node"`
	// Change is what a PUT did: created, updated or unchanged (PUT only).
	Change string `json:"change,omitempty"`
}

// PoolStatus is GET /internal/v1/pool.
type PoolStatus struct {
	// Node is the member that answered.
	Node Member `json:"node"`
	// Incarnation changes every time the answering node starts.
	Incarnation string `json:"incarnation"`
	// Members are the live members, the answering node included, by name.
	Members []Member `json:"members"`
}

// RoomList is GET /internal/v1/rooms.
type RoomList struct {
	Rooms []string `json:"rooms"`
}

// Error is the body of every error response, and the error the Client
// returns for them.
type Error struct {
	// Status is the HTTP status (not part of the body).
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error codes of the admin API besides the catalog's (room.unknown,
// config.invalid, room.invalid.name_taken).
const (
	CodeUnauthenticated = "admin.unauthenticated"
	CodeDisabled        = "admin.disabled"
	CodeNotFound        = "admin.not_found"
	CodeMethod          = "admin.method_not_allowed"
	CodeBadRequest      = "admin.bad_request"
	CodeInternal        = "server.error"
)

func (e *Error) Error() string {
	return fmt.Sprintf("admin API: %d %s: %s", e.Status, e.Code, e.Message)
}

// IsNotFound reports whether err is the admin API's 404 (an unknown room).
func IsNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// IsInvalid reports whether err is the admin API's 422: the node rejected
// the room's configuration. Retrying the same spec cannot succeed.
func IsInvalid(err error) bool { return statusOf(err) == http.StatusUnprocessableEntity }

func statusOf(err error) int {
	var e *Error
	if err != nil && errors.As(err, &e) {
		return e.Status
	}
	return 0
}
