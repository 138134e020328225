package controllers_test

import (
	"context"
	"testing"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/controllers"
	"github.com/roomring/roomring/node/nodetest"
)

// heldPush is the operator's pool with its pushes of one room held: the
// first push of room after arm waits, once it has started, until release
// is closed. It forces the ordering of a reconcile that read the pool
// before a websocket room.delete and pushes after it.
type heldPush struct {
	controllers.Pool
	room    string
	armed   chan struct{} // closed: hold the next push
	started chan struct{} // closed when the held push started
	release chan struct{} // closed: let it go
}

func newHeldPush(pool controllers.Pool, room string) *heldPush {
	return &heldPush{Pool: pool, room: room, armed: make(chan struct{}), started: make(chan struct{}), release: make(chan struct{})}
}

func (h *heldPush) hold(id string) {
	select {
	case <-h.armed:
	default:
		return
	}
	if id != h.room {
		return
	}
	select {
	case <-h.started: // held once already
		return
	default:
	}
	close(h.started)
	<-h.release
}

func (h *heldPush) PutRoom(ctx context.Context, id string, spec *v1alpha1.RoomSpec) (adminapi.RoomStatus, error) {
	h.hold(id)
	return h.Pool.PutRoom(ctx, id, spec)
}

func (h *heldPush) ReplaceRoom(ctx context.Context, id string, spec *v1alpha1.RoomSpec) (adminapi.RoomStatus, error) {
	h.hold(id)
	return h.Pool.ReplaceRoom(ctx, id, spec)
}

// A push the operator decided on before a websocket room.delete, and made
// after it, must not reopen the room: the clients would see room.create
// and a second room.delete when the finalizer closes it again.
func TestStalePushDoesNotReopenDeletedRoom(t *testing.T) {
	ns := env.Namespace(t)
	n := startKubeNode(t, ns, "node-a")
	held := newHeldPush(nodetest.AdminClient(t, token, n.Addr()), "lounge")
	runOperatorOn(t, env.Config, operatorConfig(ns), held)
	create(t, newRoom(ns, "lounge", "", "Lounge"))
	waitStatus(t, ns, "lounge", "ready", ready("node-a"))
	g := nodetest.Guest(t, n, "watcher")

	// kubectl changes the Room: the operator reads the pool (the old
	// configuration) and pushes the new one; the push is held.
	close(held.armed)
	lounge := mustRoom(t, ns, "lounge")
	lounge.Spec.DisplayName = "Lounge (renamed)"
	if err := env.Client.Update(context.Background(), lounge); err != nil {
		t.Fatal(err)
	}
	<-held.started

	// An admin deletes the room meanwhile; then the push goes on.
	adminClient(t, n).Call("room.delete", map[string]any{"room": "lounge"})
	g.Wait(wait, "room.delete lounge", isRoomDelete("lounge"))
	close(held.release)

	waitGone(t, ns, "lounge")
	if _, err := nodetest.AdminClient(t, token, n.Addr()).Room(context.Background(), "lounge"); !adminapi.IsNotFound(err) {
		t.Fatalf("pool serves lounge again: %v", err)
	}
	// A reply of g's comes after every event sent to it before.
	if code := g.CallErr("room.enter", map[string]any{"room": "lounge"}); code == "" {
		t.Fatal("room.enter of the deleted room succeeded")
	}
	if g.Has(nodetest.IsEvent("room.create", "")) {
		t.Fatal("the stale push reopened lounge (room.create)")
	}
	if g.Has(isRoomDelete("lounge")) {
		t.Fatal("room.delete of lounge sent twice")
	}
}
