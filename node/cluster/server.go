package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/cluster/peer"
	"github.com/roomring/roomring/node/cluster/ring"
	"github.com/roomring/roomring/node/edge"
	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/owner"
	"github.com/roomring/roomring/node/store"
)

// server is the owner side of a member: it serves the owner operations of
// the rooms this node owns, sent by edges over peer links (peer.Handler)
// or by this node's Forwarder directly, on the one local owner
// (owner.Local), and publishes that owner's events to the edges
// (owner.Publisher): this node's edge directly, every other edge with one
// message over its peer link. The peer handler also takes what peers send
// to the edge (deliveries, announcement reports, catalog fetches) and
// hands it on.
//
// Concurrency: the server has no lock of its own. It checks ownership and
// applies an operation under the room's lock (roomLocks), so that a ring
// change cannot slip in between; Publish runs under that lock too and
// never blocks (edge.Post and peer sends queue, bounded, and drop when
// full). Resource writes are serialised per room by the owner instead and
// run without the room's lock.
type server struct {
	self    string
	timeout time.Duration
	log     *slog.Logger
	met     *metrics
	place   Placement
	locks   *roomLocks
	edge    *edge.Edge
	catalog *catalog.Catalog
	// local is the owner, which publishes through this server.
	local *owner.Local
	// mesh is set once the peer links exist, before any room has state.
	mesh *peer.Mesh
	// linkUp is the gone detector's and the resyncer's: a peer whose link
	// is up is not gone, and its rooms are announced again.
	linkUp func(peer string)
	// linkRefused is the gone detector's: a connection to peer was
	// refused.
	linkRefused func(peer string)
	// synced is the placement's: a member reports its announcements
	// through under a ring (its hash).
	synced func(member string, ring uint64)
	// catalogPut is the catalog sync's: records another node wrote.
	catalogPut func(recs []catalog.Record)
}

// serve runs an owner operation sent by the edge named from. It refuses
// (NotOwner) rooms this node does not own in its view of the ring.
func (s *server) serve(ctx context.Context, from string, q *request) *response {
	unlock := s.locks.lock(q.Room)
	if !owns(s.place, q.Room) {
		unlock()
		return &response{NotOwner: true}
	}
	switch q.Op {
	case opResourceSet, opResourceDel:
		// Store writes are serialised per room by the owner; do not hold
		// the room's membership lock across them.
		unlock()
		return s.serveResource(ctx, q)
	}
	defer unlock()
	switch q.Op {
	case opEnter:
		if q.User == nil {
			return failure(fmt.Errorf("enter without a user"))
		}
		if s.place.Rebuilding(q.Room) {
			return &response{Rebuilding: true} // the edge retries: no half-built viewer list
		}
		viewers, _ := s.local.Enter(ctx, q.Room, q.User.user(), from, !q.NoViewers)
		if q.NoViewers {
			return &response{}
		}
		return &response{Viewers: toWireUsers(viewers)}
	case opLeave:
		s.local.Leave(ctx, q.Room, q.UserID, from)
	case opReact:
		_ = s.local.React(ctx, q.Room, q.UserID, q.Reaction)
	case opAnnounce:
		ev, err := q.event()
		if err != nil {
			return failure(err)
		}
		_ = s.local.Announce(ctx, q.Room, ev)
	case opForget:
		_ = s.local.Forget(ctx, q.Room)
	case opSync:
		if q.Ring != ringHashOf(s.place.Ring()) {
			// The edge placed the room on another member set: apply its
			// announcement once both views agree (it retries), so that a
			// rebuild is never judged on a ring only one side has.
			return &response{Rebuilding: true}
		}
		s.sync(q.Room, from, fromWireUsers(q.Users), q.Blind)
	case opViewers:
		return &response{Count: s.local.Rooms().Viewers(q.Room)}
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
func (s *server) sync(room, edge string, users []op.User, blind bool) {
	rooms := s.local.Rooms()
	if s.place.Rebuilding(room) {
		rooms.SyncEdge(room, edge, users, false)
		return
	}
	rooms.SyncEdge(room, edge, users, true)
	if !blind {
		rooms.Snapshot(room, edge)
	}
}

func (s *server) serveResource(ctx context.Context, q *request) *response {
	if q.Target == nil || q.User == nil {
		return failure(fmt.Errorf("%s without target or user", q.Op))
	}
	var err error
	if q.Op == opResourceSet {
		err = s.local.Set(ctx, *q.Target, q.User.user(), q.Reaction)
	} else {
		err = s.local.Delete(ctx, *q.Target, q.User.user())
	}
	if err != nil {
		if errors.Is(err, store.ErrUnavailable) {
			// The edge gets server.unavailable as it is (failure) and does
			// not log it; say it here, as a single node's engine does.
			s.log.Warn("store unavailable", "op", q.Op, "room", q.Room, "err", err)
		}
		return failure(err)
	}
	return &response{}
}

// dropEdge drops the presences of an edge that left the ring.
func (s *server) dropEdge(name string) { s.local.Rooms().DropEdge(name) }

// forgetUnowned drops the state of the rooms next does not place here.
func (s *server) forgetUnowned(next *ring.Ring) {
	for _, id := range s.local.Rooms().Rooms() {
		unlock := s.locks.lock(id)
		if next.Owner(id) != s.self {
			s.local.Rooms().Forget(id)
		}
		unlock()
	}
}

// forget drops a deleted room's state, whoever owns it.
func (s *server) forget(room string) {
	unlock := s.locks.lock(room)
	s.local.Rooms().Forget(room)
	unlock()
}

// snapshotGained sends a viewer snapshot to the edges of every room that
// gained reports (placement's rebuilt hook), and tells the pool the
// occupancy of each where it changed with the previous owner.
func (s *server) snapshotGained(gained func(room string) bool) {
	for _, id := range s.local.Rooms().Rooms() {
		unlock := s.locks.lock(id)
		if gained(id) {
			s.local.Rooms().Snapshot(id)
		}
		unlock()
	}
	// A gained room the pool thinks busy may have lost every user with
	// its previous owner: it has no state here to snapshot.
	for _, id := range s.edge.BusyRooms() {
		unlock := s.locks.lock(id)
		if gained(id) {
			s.local.Rooms().Recount(id)
		}
		unlock()
	}
}

// Publish implements owner.Publisher for the rooms this node owns: this
// node's sessions get the event directly, every other edge one message
// over its peer link. It never blocks: a full or broken link drops the
// message (counted; the next resync repairs viewer sets). A world event
// (a room's occupancy) goes to every member of the ring.
func (s *server) Publish(edges []string, ev *op.Event) {
	if ev.Audience == op.ToWorld {
		edges = s.place.Members()
		if !slices.Contains(edges, s.self) {
			edges = append(edges, s.self)
		}
	}
	var payload []byte
	for _, e := range edges {
		if e == s.self {
			s.edge.Post(ev) // under the room's lock
			continue
		}
		if payload == nil {
			w, err := toWireEvent(ev)
			if err == nil {
				payload, err = json.Marshal(request{Op: opDeliver, Room: ev.Room, Event: w})
			}
			if err != nil {
				s.log.Error("event not published to other nodes", "event", ev.Kind, "room", ev.Room, "err", err)
				s.met.delivered.WithLabelValues("dropped").Add(float64(len(edges)))
				return
			}
		}
		if err := s.mesh.Send(e, roomHash(ev.Room), payload); err != nil {
			s.met.delivered.WithLabelValues("dropped").Inc()
			continue
		}
		s.met.delivered.WithLabelValues("sent").Inc()
	}
}

// HandleRequest implements peer.Handler.
func (s *server) HandleRequest(from string, payload []byte) []byte {
	var q request
	var resp *response
	if err := json.Unmarshal(payload, &q); err != nil {
		resp = failure(fmt.Errorf("decode request: %w", err))
	} else if q.Op == opCatalogGet {
		resp = &response{Records: s.catalog.Records(q.IDs...)}
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		resp = s.serve(ctx, from, &q)
		cancel()
	}
	b, err := json.Marshal(resp)
	if err != nil {
		b, _ = json.Marshal(failure(fmt.Errorf("encode reply: %w", err)))
	}
	return b
}

// HandleMessage implements peer.Handler.
func (s *server) HandleMessage(from string, payload []byte) {
	q, ok := decodeReact(payload)
	if !ok {
		if err := json.Unmarshal(payload, &q); err != nil {
			s.met.received.WithLabelValues("invalid").Inc()
			return
		}
	}
	switch q.Op {
	case opDeliver:
		ev, err := q.event()
		if err != nil {
			s.met.received.WithLabelValues("invalid").Inc()
			return
		}
		s.edge.Post(ev)
	case opSynced:
		s.synced(from, q.Ring)
	case opCatalogPut:
		s.catalogPut(q.Records)
	case opReact:
		if s.serve(context.Background(), from, &q).NotOwner {
			s.met.received.WithLabelValues("not_owner").Inc()
			return
		}
	default:
		s.met.received.WithLabelValues("invalid").Inc()
		return
	}
	if q.Op == opReact {
		s.met.reactReceived.Inc()
	} else {
		s.met.received.WithLabelValues(q.Op).Inc()
	}
}

// LinkUp implements peer.Handler: frames to peer may have been lost while
// its link was down, so this node's members of the rooms peer owns are
// announced again, and peer is told the occupancy of the rooms this node
// owns (a node that just joined knows none).
func (s *server) LinkUp(peer string) {
	s.linkUp(peer)
	go s.sendOccupancies(peer)
}

// sendOccupancies tells peer the occupancy of every busy room this node
// owns, each as the world.user_count_change event its owner published
// last, on the room's lane of the link so that later changes follow it.
func (s *server) sendOccupancies(peer string) {
	s.local.Rooms().Occupancies(func(room string, b op.Occupancy) {
		w, err := toWireEvent(op.NewUserCount(room, b))
		if err != nil {
			return
		}
		payload, err := json.Marshal(request{Op: opDeliver, Room: room, Event: w})
		if err != nil {
			return
		}
		if err := s.mesh.Send(peer, roomHash(room), payload); err != nil {
			s.met.delivered.WithLabelValues("dropped").Inc()
			return
		}
		s.met.delivered.WithLabelValues("sent").Inc()
	})
}

// LinkRefused implements peer.Handler: the gone detector probes peer.
func (s *server) LinkRefused(peer string) { s.linkRefused(peer) }
