package engine

import (
	"testing"

	"github.com/roomring/roomring/node/op"
)

// TestEveryOperationHasARoute: the dispatch table serves every operation
// kind, and every route that names a room can find it.
func TestEveryOperationHasARoute(t *testing.T) {
	for _, o := range []op.Operation{
		op.Enter{}, op.Leave{}, op.React{}, op.SetSchedule{}, op.DeleteRoom{}, op.CreateRoom{},
		op.GetRoomConfig{}, op.PatchRoomConfig{}, op.ListRoomConfigs{}, op.ReorderRooms{}, op.InviteLink{},
		op.SetResourceReaction{}, op.DeleteResourceReaction{}, op.GetResourceReactions{}, op.GetOwnResourceReaction{},
	} {
		r, ok := routes[o.Kind()]
		if !ok {
			t.Errorf("%s: no route", o.Kind())
			continue
		}
		if r.run == nil || (r.room != noRoom) != (r.roomOf != nil) {
			t.Errorf("%s: incomplete route", o.Kind())
		}
		if r.roomOf != nil {
			_ = r.roomOf(o) // must not panic on its own operation type
		}
	}
}
