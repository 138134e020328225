package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/reaction"
	"github.com/roomring/roomring/node/store"
)

// unavailable is the error of an operation whose owner could not be
// reached: the client gets server.unavailable and may retry; err says why.
func unavailable(err error) error {
	return fmt.Errorf("%w: %w", op.Errorf(op.CodeUnavailable, "the room is moving between nodes or its node is unreachable; try again"), err)
}

// ownerCall runs q on the owner of q.Room — here, or over the peer link to
// the owner — and returns the owner's response. A refusal because the ring
// is moving (the node addressed does not own the room in its own view, or
// is still rebuilding it) is retried with the ring as it is then, until
// ForwardTimeout.
//
// A request to another node is queued under the room's lock, so an edge's
// operations on a room, and its announcements of the room's members, reach
// the owner in the order they happened here.
func (r *Router) ownerCall(ctx context.Context, q *request) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.ForwardTimeout)
	defer cancel()
	var payload []byte
	for {
		unlock := r.lockRoom(q.Room)
		owner := r.ringNow().Owner(q.Room)
		if owner == r.name {
			unlock()
			if resp := r.serveOwner(ctx, r.name, q); !resp.retry() {
				r.met.forwarded.WithLabelValues(q.Op, "local").Inc()
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
			start := time.Now()
			call, err := r.mesh.Start(owner, lane(q.Room), payload)
			unlock()
			if err != nil {
				r.met.forwarded.WithLabelValues(q.Op, "unavailable").Inc()
				return nil, unavailable(err)
			}
			b, err := call.Wait(ctx)
			if err != nil {
				r.met.forwarded.WithLabelValues(q.Op, "unavailable").Inc()
				return nil, unavailable(err)
			}
			var resp response
			if err := json.Unmarshal(b, &resp); err != nil {
				r.met.forwarded.WithLabelValues(q.Op, "error").Inc()
				return nil, fmt.Errorf("decode %s reply from %s: %w", q.Op, owner, err)
			}
			if !resp.retry() {
				r.met.forwarded.WithLabelValues(q.Op, "ok").Inc()
				r.met.latency.WithLabelValues(q.Op).Observe(time.Since(start).Seconds())
				return &resp, nil
			}
		}
		r.met.forwarded.WithLabelValues(q.Op, "retry").Inc()
		t := time.NewTimer(r.cfg.RetryInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, unavailable(fmt.Errorf("no node owns %s yet: %w", q.Room, ctx.Err()))
		case <-t.C:
		}
	}
}

// ownerSend delivers a one-way owner operation (a reaction: lossy by
// nature, never retried).
func (r *Router) ownerSend(q *request) error {
	unlock := r.lockRoom(q.Room)
	owner := r.ringNow().Owner(q.Room)
	if owner == r.name {
		unlock()
		r.serveOwner(context.Background(), r.name, q)
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
	if err := r.mesh.Send(owner, lane(q.Room), b); err != nil {
		r.met.forwarded.WithLabelValues(q.Op, "unavailable").Inc()
		return unavailable(err)
	}
	if q.Op == opReact {
		r.met.reactSent.Inc()
	} else {
		r.met.forwarded.WithLabelValues(q.Op, "sent").Inc()
	}
	return nil
}

// serveOwner runs an owner operation sent by the edge named from. It
// refuses (NotOwner) rooms this node does not own in its view of the ring,
// checking and applying under the room's lock so that a ring change cannot
// slip in between.
func (r *Router) serveOwner(ctx context.Context, from string, q *request) *response {
	unlock := r.lockRoom(q.Room)
	if r.leaving.Load() || r.ringNow().Owner(q.Room) != r.name {
		unlock()
		return &response{NotOwner: true}
	}
	switch q.Op {
	case opResourceSet, opResourceDel:
		// Store writes are serialised per room by the reaction owner; do
		// not hold the room's membership lock across them.
		unlock()
		return r.serveResource(ctx, q)
	}
	defer unlock()
	switch q.Op {
	case opEnter:
		if q.User == nil {
			return failure(fmt.Errorf("enter without a user"))
		}
		if r.rebuilding(q.Room) {
			return &response{Rebuilding: true} // the edge retries: no half-built viewer list
		}
		viewers, _ := r.owner.Enter(ctx, q.Room, q.User.user(), from, !q.NoViewers)
		if q.NoViewers {
			return &response{}
		}
		return &response{Viewers: toWireUsers(viewers)}
	case opLeave:
		r.rooms.Leave(q.Room, q.UserID, from)
	case opReact:
		r.rooms.React(q.Room, q.UserID, q.Reaction)
	case opAnnounce:
		ev, err := q.event()
		if err != nil {
			return failure(err)
		}
		r.rooms.Announce(q.Room, ev)
	case opForget:
		r.rooms.Forget(q.Room)
	case opSync:
		if q.Ring != ringHashOf(r.ringNow()) {
			// The edge placed the room on another member set: apply its
			// announcement once both views agree (it retries), so that a
			// rebuild is never judged on a ring only one side has.
			return &response{Rebuilding: true}
		}
		r.sync(q.Room, from, fromWireUsers(q.Users), q.Blind)
	case opViewers:
		return &response{Count: r.rooms.Viewers(q.Room)}
	default:
		return failure(fmt.Errorf("unknown owner operation %q", q.Op))
	}
	return &response{}
}

// sync applies an edge's announcement of its members of room. While the
// room is rebuilt they are added silently and the rebuild's snapshot
// follows; after that, new members are announced and the edge gets a
// snapshot of its own, so an edge that announces late still learns of the
// viewers it missed — unless it is blind (no session there may see them:
// a big room's snapshot would be its whole viewer list for nobody; a
// session that may see them gets the list with its enter). Called with
// the room's lock held.
func (r *Router) sync(room, edge string, users []op.User, blind bool) {
	if r.rebuilding(room) {
		r.rooms.SyncEdge(room, edge, users, false)
		return
	}
	r.rooms.SyncEdge(room, edge, users, true)
	if !blind {
		r.rooms.Snapshot(room, edge)
	}
}

func (r *Router) serveResource(ctx context.Context, q *request) *response {
	if q.Target == nil || q.User == nil {
		return failure(fmt.Errorf("%s without target or user", q.Op))
	}
	var err error
	if q.Op == opResourceSet {
		err = r.owner.Set(ctx, *q.Target, q.User.user(), q.Reaction)
	} else {
		err = r.owner.Delete(ctx, *q.Target, q.User.user())
	}
	if err != nil {
		if errors.Is(err, store.ErrUnavailable) {
			// The edge gets server.unavailable as it is (failure) and does
			// not log it; say it here, as a single node's engine does.
			r.log.Warn("store unavailable", "op", q.Op, "room", q.Room, "err", err)
		}
		return failure(err)
	}
	return &response{}
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
func (r *Router) Enter(ctx context.Context, room string, u op.User, _ string, withViewers bool) ([]op.User, error) {
	q := userRequest(opEnter, room, u)
	q.NoViewers = !withViewers
	resp, err := r.ownerCall(ctx, q)
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
// repaired by re-announcing the room's members to its owner. Once this
// node departs there is nothing to deliver: owners drop all of its users
// when they see it go.
func (r *Router) Leave(ctx context.Context, room, userID, _ string) error {
	if r.leaving.Load() {
		return nil
	}
	resp, err := r.ownerCall(ctx, &request{Op: opLeave, Room: room, UserID: userID})
	if err == nil {
		err = resp.err()
	}
	if err != nil {
		r.scheduleResync(room)
	}
	return err
}

// React implements engine.Owner.
func (r *Router) React(_ context.Context, room, userID, reaction string) error {
	return r.ownerSend(&request{Op: opReact, Room: room, UserID: userID, Reaction: reaction})
}

// Announce implements engine.Owner.
func (r *Router) Announce(ctx context.Context, room string, ev *op.Event) error {
	w, err := toWireEvent(ev)
	if err != nil {
		return err
	}
	resp, err := r.ownerCall(ctx, &request{Op: opAnnounce, Room: room, Event: w, local: ev})
	if err != nil {
		return err
	}
	return resp.err()
}

// Forget implements engine.Owner.
func (r *Router) Forget(ctx context.Context, room string) error {
	resp, err := r.ownerCall(ctx, &request{Op: opForget, Room: room})
	if err != nil {
		return err
	}
	return resp.err()
}

// Set implements engine.ResourceReactions: the room's owner serialises the
// write, stores it and announces it.
func (r *Router) Set(ctx context.Context, t reaction.Target, u op.User, reaction string) error {
	q := userRequest(opResourceSet, t.Room, u)
	q.Target, q.Reaction = &t, reaction
	resp, err := r.ownerCall(ctx, q)
	if err != nil {
		return err
	}
	return resp.err()
}

// Delete implements engine.ResourceReactions.
func (r *Router) Delete(ctx context.Context, t reaction.Target, u op.User) error {
	q := userRequest(opResourceDel, t.Room, u)
	q.Target = &t
	resp, err := r.ownerCall(ctx, q)
	if err != nil {
		return err
	}
	return resp.err()
}

// Summary implements engine.ResourceReactions: reads come from the store,
// which a cluster shares (PostgreSQL).
func (r *Router) Summary(ctx context.Context, resource, comment, viewerID string) (reaction.Summary, error) {
	return r.owner.Summary(ctx, resource, comment, viewerID)
}

// Own implements engine.ResourceReactions.
func (r *Router) Own(ctx context.Context, resource, comment, userID string) (reaction.Own, error) {
	return r.owner.Own(ctx, resource, comment, userID)
}

// Publish implements room.Publisher for the rooms this node owns: this
// node's sessions get the event directly, every other edge one message
// over its peer link. It never blocks: a full or broken link drops the
// message (counted; the next resync repairs viewer sets).
func (r *Router) Publish(edges []string, ev *op.Event) {
	var payload []byte
	for _, e := range edges {
		if e == r.name {
			r.edge.Post(ev) // under the room's lock
			continue
		}
		if payload == nil {
			w, err := toWireEvent(ev)
			if err == nil {
				payload, err = json.Marshal(request{Op: opDeliver, Room: ev.Room, Event: w})
			}
			if err != nil {
				r.log.Error("event not published to other nodes", "event", ev.Kind, "room", ev.Room, "err", err)
				r.met.delivered.WithLabelValues("dropped").Add(float64(len(edges)))
				return
			}
		}
		if err := r.mesh.Send(e, lane(ev.Room), payload); err != nil {
			r.met.delivered.WithLabelValues("dropped").Inc()
			continue
		}
		r.met.delivered.WithLabelValues("sent").Inc()
	}
}

// PublishAll implements engine.Broadcaster. World events (room.create,
// room.delete, world.updated) follow catalog changes; every other node
// derives them from the change when it applies it (see publishChanges), so
// this node's own sessions are the only ones to tell here.
func (r *Router) PublishAll(ev *op.Event) { r.edge.Deliver(ev) }

// HandleRequest implements peer.Handler.
func (r *Router) HandleRequest(from string, payload []byte) []byte {
	var q request
	var resp *response
	if err := json.Unmarshal(payload, &q); err != nil {
		resp = failure(fmt.Errorf("decode request: %w", err))
	} else if q.Op == opCatalogGet {
		resp = &response{Records: r.catalog.Records(q.IDs...)}
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.ForwardTimeout)
		resp = r.serveOwner(ctx, from, &q)
		cancel()
	}
	b, err := json.Marshal(resp)
	if err != nil {
		b, _ = json.Marshal(failure(fmt.Errorf("encode reply: %w", err)))
	}
	return b
}

// HandleMessage implements peer.Handler.
func (r *Router) HandleMessage(from string, payload []byte) {
	q, ok := decodeReact(payload)
	if !ok {
		if err := json.Unmarshal(payload, &q); err != nil {
			r.met.received.WithLabelValues("invalid").Inc()
			return
		}
	}
	switch q.Op {
	case opDeliver:
		ev, err := q.event()
		if err != nil {
			r.met.received.WithLabelValues("invalid").Inc()
			return
		}
		r.edge.Post(ev)
	case opSynced:
		r.synced(from, q.Ring)
	case opReact:
		if r.serveOwner(context.Background(), from, &q).NotOwner {
			r.met.received.WithLabelValues("not_owner").Inc()
			return
		}
	default:
		r.met.received.WithLabelValues("invalid").Inc()
		return
	}
	if q.Op == opReact {
		r.met.reactReceived.Inc()
	} else {
		r.met.received.WithLabelValues(q.Op).Inc()
	}
}

// LinkUp implements peer.Handler: frames to peer may have been lost while
// its link was down, so this node's members of the rooms peer owns are
// announced again.
func (r *Router) LinkUp(peer string) {
	ring := r.ringNow()
	var rooms []string
	for _, id := range r.edge.Rooms() {
		if ring.Owner(id) == peer {
			rooms = append(rooms, id)
		}
	}
	r.scheduleResync(rooms...)
}
