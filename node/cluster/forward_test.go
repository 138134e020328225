package cluster

import (
	"errors"
	"log/slog"
	"testing"
	"time"

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
	if err := f.Leave(ctx, "r", "v", "a"); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.viewers(ctx, "r"); n != 1 {
		t.Fatalf("viewers after leave = %d, want 1", n)
	}
}

func TestForwarderRetriesUntilTimeoutWhenNobodyOwns(t *testing.T) {
	f, place := alone(t)
	place.leave() // a leaving node owns nothing, and places rooms on nobody else here
	if err := f.Leave(t.Context(), "r", "u", "a"); err != nil {
		t.Fatalf("leave while leaving = %v, want nothing to deliver", err)
	}
	_, err := f.Enter(t.Context(), "r", op.User{ID: "u"}, "a", true)
	var oe *op.Error
	if !errors.As(err, &oe) || oe.Code != op.CodeUnavailable {
		t.Fatalf("enter = %v, want server.unavailable after the forward timeout", err)
	}
}
