package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/roomring/roomring/node/cluster/peer"
	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/owner"
	"github.com/roomring/roomring/node/reaction"
)

// Forwarder is the edge side of a member: the engine's room owner
// (engine.Owner) and resource-reaction owner (engine.ResourceReactions).
// It sends each room operation to the room's owner on the ring — this
// node's owner server when this node owns the room, otherwise a request
// over the peer link — retried while the ring settles and failed as
// server.unavailable after ForwardTimeout. Resource-reaction reads come
// from the store, which a cluster shares.
//
// Concurrency: safe for concurrent use; it has no state of its own. A
// request to another node is queued under the room's lock (roomLocks), so
// an edge's operations on a room, and its announcements of the room's
// members, reach the owner in the order they happened here.
type Forwarder struct {
	self    string
	timeout time.Duration // ForwardTimeout
	retry   time.Duration // RetryInterval
	met     *metrics
	place   Placement
	locks   *roomLocks
	// mesh is set once the peer links exist, before the engine runs.
	mesh *peer.Mesh
	// local serves the rooms this node owns.
	local *server
	// reads serves resource-reaction reads.
	reads *owner.Local
	// repair queues rooms for re-announcement (the resyncer's).
	repair func(rooms ...string)
}

// unavailable is the error of an operation whose owner could not be
// reached: the client gets server.unavailable and may retry; err says why.
func unavailable(err error) error {
	return fmt.Errorf("%w: %w", op.Errorf(op.CodeUnavailable, "the room is moving between nodes or its node is unreachable; try again"), err)
}

// call runs q on the owner of q.Room — here, or over the peer link to the
// owner — and returns the owner's response. A refusal because the ring is
// moving (the node addressed does not own the room in its own view, or is
// still rebuilding it) is retried with the ring as it is then, until
// ForwardTimeout. Every request/response owner operation goes through it.
func (f *Forwarder) call(ctx context.Context, q *request) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	var payload []byte
	for {
		unlock := f.locks.lock(q.Room)
		owner := f.place.Owner(q.Room)
		if owner == f.self {
			unlock()
			if resp := f.local.serve(ctx, f.self, q); !resp.retry() {
				f.met.forwarded.WithLabelValues(q.Op, "local").Inc()
				return resp, nil
			}
		} else {
			if payload == nil {
				b, err := json.Marshal(q)
				if err != nil {
					unlock()
					return nil, fmt.Errorf("encode %s: %w", q.Op, err)
				}
				payload = b
			}
			resp, err := f.remote(ctx, q, owner, payload, unlock)
			if err != nil || !resp.retry() {
				return resp, err
			}
		}
		f.met.forwarded.WithLabelValues(q.Op, "retry").Inc()
		t := time.NewTimer(f.retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, unavailable(fmt.Errorf("no node owns %s yet: %w", q.Room, ctx.Err()))
		case <-t.C:
		}
	}
}

// remote sends payload (q) to owner, unlocks the room once it is queued,
// and waits for the reply.
func (f *Forwarder) remote(ctx context.Context, q *request, owner string, payload []byte, unlock func()) (*response, error) {
	start := time.Now()
	call, err := f.mesh.Start(owner, roomHash(q.Room), payload)
	unlock()
	if err != nil {
		f.met.forwarded.WithLabelValues(q.Op, "unavailable").Inc()
		return nil, unavailable(err)
	}
	b, err := call.Wait(ctx)
	if err != nil {
		f.met.forwarded.WithLabelValues(q.Op, "unavailable").Inc()
		return nil, unavailable(err)
	}
	var resp response
	if err := json.Unmarshal(b, &resp); err != nil {
		f.met.forwarded.WithLabelValues(q.Op, "error").Inc()
		return nil, fmt.Errorf("decode %s reply from %s: %w", q.Op, owner, err)
	}
	if !resp.retry() {
		f.met.forwarded.WithLabelValues(q.Op, "ok").Inc()
		f.met.latency.WithLabelValues(q.Op).Observe(time.Since(start).Seconds())
	}
	return &resp, nil
}

// do is call for an operation that answers nothing but its error.
func (f *Forwarder) do(ctx context.Context, q *request) error {
	resp, err := f.call(ctx, q)
	if err != nil {
		return err
	}
	return resp.err()
}

// send delivers a one-way owner operation (a reaction: lossy by nature,
// never retried).
func (f *Forwarder) send(q *request) error {
	unlock := f.locks.lock(q.Room)
	owner := f.place.Owner(q.Room)
	if owner == f.self {
		unlock()
		f.local.serve(context.Background(), f.self, q)
		return nil
	}
	defer unlock()
	var b []byte
	if q.Op == opReact {
		b = encodeReact(q.Room, q.UserID, q.Reaction)
	}
	if b == nil {
		var err error
		if b, err = json.Marshal(q); err != nil {
			return fmt.Errorf("encode %s: %w", q.Op, err)
		}
	}
	if err := f.mesh.Send(owner, roomHash(q.Room), b); err != nil {
		f.met.forwarded.WithLabelValues(q.Op, "unavailable").Inc()
		return unavailable(err)
	}
	if q.Op == opReact {
		f.met.reactSent.Inc()
	} else {
		f.met.forwarded.WithLabelValues(q.Op, "sent").Inc()
	}
	return nil
}

// event is the request's event: the original on this node, decoded from
// the wire otherwise.
func (q *request) event() (*op.Event, error) {
	if q.local != nil {
		return q.local, nil
	}
	if q.Event == nil {
		return nil, fmt.Errorf("%s without an event", q.Op)
	}
	return q.Event.event()
}

func userRequest(opName, room string, u op.User) *request {
	w := toWireUser(u)
	return &request{Op: opName, Room: room, User: &w}
}

// Enter implements engine.Owner.
func (f *Forwarder) Enter(ctx context.Context, room string, u op.User, _ string, withViewers bool) ([]op.User, error) {
	q := userRequest(opEnter, room, u)
	q.NoViewers = !withViewers
	resp, err := f.call(ctx, q)
	if err != nil {
		return nil, err
	}
	if err := resp.err(); err != nil {
		return nil, err
	}
	if !withViewers {
		return nil, nil
	}
	return fromWireUsers(resp.Viewers), nil
}

// Leave implements engine.Owner. A leave that cannot be delivered is
// repaired by re-announcing the room's members to its owner (the exact
// set: the owner drops the users not listed): thousands of clients
// leaving at once (a load balancer or an event's end dropping them) cost
// one re-announcement per room, counted in
// roomring_cluster_owner_ops_total{op="leave",result="unavailable"}, not
// a log line each. Once this node departs there is nothing to deliver:
// owners drop all of its users when they see it go.
func (f *Forwarder) Leave(ctx context.Context, room, userID, _ string) {
	if f.place.State() == Leaving {
		return
	}
	if err := f.do(ctx, &request{Op: opLeave, Room: room, UserID: userID}); err != nil {
		f.repair(room)
	}
}

// React implements engine.Owner.
func (f *Forwarder) React(_ context.Context, room, userID, reaction string) error {
	return f.send(&request{Op: opReact, Room: room, UserID: userID, Reaction: reaction})
}

// Announce implements engine.Owner.
func (f *Forwarder) Announce(ctx context.Context, room string, ev *op.Event) error {
	w, err := toWireEvent(ev)
	if err != nil {
		return err
	}
	return f.do(ctx, &request{Op: opAnnounce, Room: room, Event: w, local: ev})
}

// Forget implements engine.Owner.
func (f *Forwarder) Forget(ctx context.Context, room string) error {
	return f.do(ctx, &request{Op: opForget, Room: room})
}

// Set implements engine.ResourceReactions: the room's owner serialises the
// write, stores it and announces it.
func (f *Forwarder) Set(ctx context.Context, t reaction.Target, u op.User, reaction string) error {
	q := userRequest(opResourceSet, t.Room, u)
	q.Target, q.Reaction = &t, reaction
	return f.do(ctx, q)
}

// Delete implements engine.ResourceReactions.
func (f *Forwarder) Delete(ctx context.Context, t reaction.Target, u op.User) error {
	q := userRequest(opResourceDel, t.Room, u)
	q.Target = &t
	return f.do(ctx, q)
}

// Summary implements engine.ResourceReactions: reads come from the store,
// which a cluster shares (PostgreSQL).
func (f *Forwarder) Summary(ctx context.Context, world, resource, comment, viewerID string) (reaction.Summary, error) {
	return f.reads.Summary(ctx, world, resource, comment, viewerID)
}

// Own implements engine.ResourceReactions.
func (f *Forwarder) Own(ctx context.Context, world, resource, comment, userID string) (reaction.Own, error) {
	return f.reads.Own(ctx, world, resource, comment, userID)
}

// viewers is the number of the room's viewers, as its owner counts them.
func (f *Forwarder) viewers(ctx context.Context, room string) (int, error) {
	resp, err := f.call(ctx, &request{Op: opViewers, Room: room})
	if err != nil {
		return 0, err
	}
	return resp.Count, resp.err()
}
