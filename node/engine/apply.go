package engine

import (
	"context"
	"encoding/json"
	"errors"
	"maps"

	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/op"
)

// RoomWriter is where the websocket's admin actions (room.create,
// room.config.patch, room.config.reorder, room.schedule, room.delete) write
// room configuration. A standalone node writes its catalog (which
// *catalog.Catalog implements); a node under Kubernetes writes the Room
// custom resources and then its catalog (node/kube), so kubectl and clients
// see the same rooms. Errors that are *op.Error reach the client as is.
type RoomWriter interface {
	Create(ctx context.Context, req catalog.CreateRequest) (*catalog.Room, error)
	Patch(ctx context.Context, id string, body map[string]json.RawMessage) (*catalog.Room, error)
	SetSchedule(ctx context.Context, id string, data map[string]any) error
	Reorder(ctx context.Context, s catalog.Scope, ids []string) ([]*catalog.Room, error)
	Delete(ctx context.Context, id string) error
}

// Change is what ApplyRoom did to the catalog.
type Change string

// The outcomes of ApplyRoom.
const (
	Created   Change = "created"
	Updated   Change = "updated"
	Unchanged Change = "unchanged"
)

// Precondition is what a push requires of the catalog before it applies.
type Precondition int

// The preconditions of ApplyRoom.
const (
	// AnyState applies whether the catalog holds the room or not.
	AnyState Precondition = iota
	// MustExist applies only to a room the catalog holds (the admin API's
	// PUT with If-Match: *): a push made from a read that found the room
	// must not reopen it once it was deleted meanwhile.
	MustExist
)

// ErrClosedMeanwhile is what RoomWriter.Delete returns when the room
// left the catalog while its Rooms were being deleted: another path (the
// operator's finalizer, through the admin API) closed it and told the
// clients, so the websocket's room.delete succeeded and tells nobody again.
var ErrClosedMeanwhile = errors.New("room closed meanwhile")

// ApplyRoom makes r the room's configuration on this node — the operator's
// push through the admin API — and tells clients what changed, as the
// websocket's admin actions do (announce.Changes: room.create for a new
// room, a new world.config for a changed one), and room.schedule to the
// room's members when its schedule data changed. Applying the
// configuration the node holds already changes nothing and tells nobody,
// so repeated pushes are free. With MustExist a room the catalog lacks is
// room.unknown and nothing changes.
func (e *Engine) ApplyRoom(ctx context.Context, r *catalog.Room, pre Precondition) (Change, error) {
	old := e.catalog.Get(r.ID)
	write := e.catalog.Upsert
	if pre == MustExist {
		write = e.catalog.Replace
	}
	if err := write(ctx, r.Clone()); err != nil {
		return "", err
	}
	cur := e.catalog.Get(r.ID)
	switch {
	case cur == nil: // deleted concurrently
		return Unchanged, nil
	case old.Equal(cur):
		return Unchanged, nil
	}
	e.changed(catalog.Change{ID: r.ID, Before: old, After: cur, Cause: catalog.CauseManifest})
	if old == nil {
		return Created, nil
	}
	if !maps.EqualFunc(old.ScheduleData, cur.ScheduleData, sameJSON) {
		if err := e.owner.Announce(ctx, cur.ID, op.NewSchedule(cur.ID, cur.ScheduleData)); err != nil {
			e.log.WarnContext(ctx, "schedule change not announced", "room", cur.ID, "err", err)
		}
	}
	return Updated, nil
}

func sameJSON(a, b any) bool {
	ja, erra := json.Marshal(a)
	jb, errb := json.Marshal(b)
	return erra == nil && errb == nil && string(ja) == string(jb)
}
