package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/cluster/peer"
	"github.com/roomring/roomring/node/edge"
	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/owner"
	"github.com/roomring/roomring/node/room"
)

// alone wires a Forwarder and a server of a node that is the ring's only
// member: every room is served by the local owner, without peer links.
func alone(t *testing.T) (*Forwarder, *placement) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	place := newPlacement("a", time.Second, mustRing(t, "a"), log)
	met := newMetrics(func() float64 { return 0 })
	locks := &roomLocks{}
	srv := &server{self: "a", timeout: time.Second, log: log, met: met, place: place, locks: locks, edge: edge.New("a")}
	srv.local = owner.New(owner.Config{Room: room.DefaultConfig()}, nil, srv)
	t.Cleanup(srv.local.Close)
	return &Forwarder{self: "a", timeout: 200 * time.Millisecond, retry: 10 * time.Millisecond, met: met, place: place,
		locks: locks, local: srv, reads: srv.local, repair: func(...string) {}}, place
}

func TestForwarderServesOwnRoomsLocally(t *testing.T) {
	f, _ := alone(t)
	ctx := t.Context()
	viewers, err := f.Enter(ctx, "r", op.User{ID: "u"}, "a", true)
	if err != nil || len(viewers) != 1 || viewers[0].ID != "u" {
		t.Fatalf("enter = %v, %v", viewers, err)
	}
	if viewers, err := f.Enter(ctx, "r", op.User{ID: "v"}, "a", false); err != nil || viewers != nil {
		t.Fatalf("enter without viewers = %v, %v", viewers, err)
	}
	if n, err := f.viewers(ctx, "r"); err != nil || n != 2 {
		t.Fatalf("viewers = %d, %v; want 2", n, err)
	}
	f.Leave(ctx, "r", "v", "a")
	if n, _ := f.viewers(ctx, "r"); n != 1 {
		t.Fatalf("viewers after leave = %d, want 1", n)
	}
}

func TestForwarderRetriesUntilTimeoutWhenNobodyOwns(t *testing.T) {
	f, place := alone(t)
	place.leave() // a leaving node owns nothing, and places rooms on nobody else here
	var repaired []string
	f.repair = func(rooms ...string) { repaired = append(repaired, rooms...) }
	f.Leave(t.Context(), "r", "u", "a")
	if len(repaired) != 0 {
		t.Fatalf("leave while leaving queued %v for repair, want nothing to deliver", repaired)
	}
	_, err := f.Enter(t.Context(), "r", op.User{ID: "u"}, "a", true)
	var oe *op.Error
	if !errors.As(err, &oe) || oe.Code != op.CodeUnavailable {
		t.Fatalf("enter = %v, want server.unavailable after the forward timeout", err)
	}
}

// TestLeaveNotDeliveredIsRepaired: a leave whose owner cannot be reached
// (a client's disconnect) queues the room for re-announcement of this
// node's members to its owner, and the failure is counted.
func TestLeaveNotDeliveredIsRepaired(t *testing.T) {
	f, place := alone(t)
	var repaired []string
	f.repair = func(rooms ...string) { repaired = append(repaired, rooms...) } // called by Leave itself
	place.setRing(mustRing(t, "a", "b"))
	room := ""
	for i := 0; room == ""; i++ {
		if id := fmt.Sprintf("r%d", i); place.Owner(id) == "b" {
			room = id
		}
	}
	cfg := peer.DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	mesh, err := peer.New(cfg, "a", []byte("k"), nil, testkit.Logger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mesh.Close() })
	f.mesh = mesh // b is not a peer it knows: every request to b fails at once

	f.Leave(t.Context(), room, "u", "a")
	if !slices.Equal(repaired, []string{room}) {
		t.Fatalf("rooms queued for repair = %v, want [%s]", repaired, room)
	}
	if got := testutil.ToFloat64(f.met.forwarded.WithLabelValues(opLeave, "unavailable")); got != 1 {
		t.Fatalf("leaves counted unavailable = %v, want 1", got)
	}
}
