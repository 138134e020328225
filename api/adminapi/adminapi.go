// Package adminapi is the contract of a node's admin API, the operator's
// way into the pool: its paths, the wire types of its requests and
// answers, and its errors. The node serves it (node/admin) and the operator
// calls it (controllers/poolclient); neither side's code is linked by the
// other, and this package imports no part of the node.
//
//	GET    /internal/v1/pool         this node, its incarnation and the live members
//	GET    /internal/v1/rooms        the ids of the rooms the node serves
//	GET    /internal/v1/rooms/{id}   the room's config, owner node and viewer count
//	PUT    /internal/v1/rooms/{id}   {"spec": <Room spec>}: create or replace the room
//	                                 (with If-Match: *, replace only: 412 when the room is closed)
//	DELETE /internal/v1/rooms/{id}   close the room: its members get room.delete
//	GET    /internal/v1/worlds       the ids of the worlds the node serves
//	GET    /internal/v1/worlds/{id}  the world's rooms and this node's connections of it
//	PUT    /internal/v1/worlds/{id}  {"spec": <World spec>, "secrets": [...]}: create or replace the world
//	DELETE /internal/v1/worlds/{id}  close the world: its clients are disconnected, its rooms closed
//
// Requests carry "Authorization: Bearer <token>"; errors are an Error body
// with an HTTP status. See docs/operator.md.
package adminapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/roomring/roomring/api/v1alpha1"
)

// PathPrefix is where the admin API is served.
const PathPrefix = "/internal/v1/"

// TokenEnv is the environment variable that supplies the admin token to
// both the node (--admin-token) and the operator (--pool-token).
const TokenEnv = "ROOMRING_ADMIN_TOKEN"

// MinTokenLen is the shortest admin token accepted.
const MinTokenLen = 16

// Member is a node of the pool.
type Member struct {
	// Name is the member's name: status.ownerNode of the rooms it owns.
	Name string `json:"name"`
	// Addr is the HOST:PORT where the member's admin API answers: its
	// --admin-listen listener, else its HTTP listener.
	Addr string `json:"addr"`
}

// PutRoom is the body of PUT /internal/v1/rooms/{id}: the Room's spec as
// the API server holds it (defaults applied). A spec the node rejects is
// 422 config.invalid.
type PutRoom struct {
	Spec v1alpha1.RoomSpec `json:"spec"`
}

// RoomStatus is what a node reports of a room.
type RoomStatus struct {
	ID string `json:"id"`
	// Config is the room's configuration as the pool serves it, in the
	// JSON form of the node's room catalog (venueless' room config plus
	// roomring's fields; see docs/operator.md).
	Config json.RawMessage `json:"config"`
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

// PutWorld is the body of PUT /internal/v1/worlds/{id}: the World's spec as
// the API server holds it, and the values of the JWT secrets it references
// (spec.jwt.secrets, in order), which the operator reads from their
// Secrets. A spec the node rejects is 422 config.invalid.
type PutWorld struct {
	Spec    v1alpha1.WorldSpec `json:"spec"`
	Secrets [][]byte           `json:"secrets"`
}

// WorldStatus is what a node reports of a world.
type WorldStatus struct {
	ID string `json:"id"`
	// Rooms is the number of rooms of the world the pool serves.
	Rooms int `json:"rooms"`
	// Connections is the number of the world's client connections on the
	// answering node (the operator sums them over the pool's members).
	Connections int `json:"connections"`
	// Node is the member that answered.
	Node string `json:"node"`
	// Change is what a PUT did: created, updated or unchanged (PUT only).
	Change string `json:"change,omitempty"`
}

// WorldList is GET /internal/v1/worlds.
type WorldList struct {
	Worlds []string `json:"worlds"`
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

// Error codes of the admin API besides the catalog's (room.unknown, world.unknown,
// config.invalid, room.invalid.name_taken).
const (
	CodeUnauthenticated = "admin.unauthenticated"
	CodeDisabled        = "admin.disabled"
	CodeNotFound        = "admin.not_found"
	CodeMethod          = "admin.method_not_allowed"
	CodeBadRequest      = "admin.bad_request"
	CodeTooLarge        = "admin.too_large" // a request body over the node's 1 MiB limit (413)
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

// IsPreconditionFailed reports whether err is the admin API's 412: a PUT
// with If-Match: * found the room closed (it was deleted after the caller
// read it), and did not reopen it.
func IsPreconditionFailed(err error) bool { return statusOf(err) == http.StatusPreconditionFailed }

func statusOf(err error) int {
	var e *Error
	if err != nil && errors.As(err, &e) {
		return e.Status
	}
	return 0
}
