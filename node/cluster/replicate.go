package cluster

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/roomring/roomring/node/announce"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/cluster/membership"
	"github.com/roomring/roomring/node/cluster/peer"
)

// catalogSync replicates the room catalog: each local write is sent to
// every peer over its peer link (ordered, reliable while the link is up)
// and, when small, also gossiped; full state is exchanged on join and
// every push/pull interval (membership.Delegate), which repairs what a
// member missed while its link was down. It applies what it receives —
// the same records may come by several of these paths; the catalog keeps
// the newest version — and tells this node's sessions what changed
// (room.create, room.delete, world.updated), so an event never arrives
// before the configuration it announces.
//
// Concurrency: the delegate's methods, received and written run on
// gossip's, the peer links' and the catalog's goroutines and never block:
// updates wait in a bounded queue (dropped when full; the next state
// exchange repairs the catalog), which run applies in arrival order,
// several queued updates at a time. It has no lock of its own.
type catalogSync struct {
	self     string
	timeout  time.Duration // ForwardTimeout, for applies and fetches
	log      *slog.Logger
	met      *metrics
	catalog  *catalog.Catalog
	announce *announce.Announcer
	queue    chan catalogUpdate
	// maxPush is the largest catalog.put payload a peer link carries;
	// a bigger write waits for the state exchange.
	maxPush int
	// forget drops a deleted room's owner state (the server's).
	forget func(room string)
	// ml and mesh are set once they exist, before the catalog's hook is.
	ml   *membership.Membership
	mesh *peer.Mesh
}

// peerFrameOverhead is room for a peer frame's header.
const peerFrameOverhead = 64

// catalogLane is the peer-link lane of catalog.put messages: one lane, so
// a node's writes are applied elsewhere in the order it made them.
const catalogLane = 0

// applyBatch bounds the queued updates run merges into one Apply.
const applyBatch = 64

// notice is a gossiped catalog write: the records themselves when they fit
// in a gossip message. Fetch (a request to fetch the origin's catalog over
// the peer link) is sent by older versions only; a write too large for
// gossip now travels over the peer links alone.
type notice struct {
	From    string           `json:"from"`
	Records []catalog.Record `json:"records,omitempty"`
	Fetch   bool             `json:"fetch,omitempty"`
}

// catalogUpdate is work for the catalog loop: records to apply, or an
// origin to fetch them from first.
type catalogUpdate struct {
	records   []catalog.Record
	fetchFrom string
	source    string // for metrics: gossip, fetch, state
}

// written is the catalog's replication hook: it sends a local write to
// every peer and gossips it when it fits a gossip message. It runs under
// the catalog's lock and never blocks.
func (r *catalogSync) written(recs []catalog.Record) {
	r.push(recs)
	b, err := json.Marshal(notice{From: r.self, Records: recs})
	if err != nil || len(b) > r.ml.BroadcastMaxBytes() {
		return // the peer links (and the state exchange) carry it
	}
	if err := r.ml.Broadcast(b); err != nil {
		r.met.catalog.WithLabelValues("gossip_failed").Inc()
	}
}

// push queues recs to every peer link as one catalog.put message. A peer
// whose link is down or full misses it until the next state exchange.
func (r *catalogSync) push(recs []catalog.Record) {
	b, err := json.Marshal(request{Op: opCatalogPut, Records: recs})
	if err != nil || len(b) > r.maxPush {
		r.log.Warn("catalog write not sent to peers; the next state exchange spreads it", "bytes", len(b), "err", err)
		r.met.catalog.WithLabelValues("push_failed").Inc()
		return
	}
	for _, p := range r.mesh.Peers() {
		if err := r.mesh.Send(p, catalogLane, b); err != nil {
			r.met.catalog.WithLabelValues("push_failed").Inc()
			continue
		}
		r.met.catalog.WithLabelValues("pushed").Inc()
	}
}

// received queues records a peer sent with catalog.put.
func (r *catalogSync) received(recs []catalog.Record) {
	r.queueCatalog(catalogUpdate{records: recs, source: "peer"})
}

func (r *catalogSync) queueCatalog(u catalogUpdate) {
	select {
	case r.queue <- u:
	default:
		r.met.catalog.WithLabelValues("dropped").Inc()
	}
}

// run applies catalog updates in arrival order, merging those queued
// together into one Apply, and tells this node's sessions what changed.
func (r *catalogSync) run(stop <-chan struct{}) {
	var next *catalogUpdate
	for {
		u := next
		next = nil
		if u == nil {
			select {
			case <-stop:
				return
			case v := <-r.queue:
				u = &v
			}
		}
		if u.fetchFrom == "" {
			next = r.gather(u)
		}
		r.apply(*u)
	}
}

// gather appends the records of updates already queued behind u to u, up
// to applyBatch updates, and returns a fetch it met (to run next), if any.
func (r *catalogSync) gather(u *catalogUpdate) *catalogUpdate {
	for range applyBatch {
		select {
		case v := <-r.queue:
			if v.fetchFrom != "" {
				return &v
			}
			u.records = append(u.records, v.records...)
		default:
			return nil
		}
	}
	return nil
}

func (r *catalogSync) apply(u catalogUpdate) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	if u.fetchFrom != "" {
		recs, err := r.fetchCatalog(ctx, u.fetchFrom)
		if err != nil {
			r.log.Warn("catalog fetch failed; the next state exchange repairs it", "from", u.fetchFrom, "err", err)
			r.met.catalog.WithLabelValues("fetch_failed").Inc()
			return
		}
		u.records = recs
	}
	changes, err := r.catalog.Apply(ctx, u.records)
	if err != nil {
		r.log.Error("catalog update not applied", "source", u.source, "err", err)
		r.met.catalog.WithLabelValues("error").Inc()
		return
	}
	r.met.catalog.WithLabelValues("applied").Add(float64(len(changes)))
	r.publishChanges(changes)
}

func (r *catalogSync) fetchCatalog(ctx context.Context, from string) ([]catalog.Record, error) {
	b, err := json.Marshal(request{Op: opCatalogGet})
	if err != nil {
		return nil, err
	}
	b, err = r.mesh.Request(ctx, from, 0, b)
	if err != nil {
		return nil, err
	}
	var resp response
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, err
	}
	return resp.Records, resp.err()
}

// publishChanges tells this node's sessions about catalog changes made on
// other nodes, as the engine tells them about its own (announce.Announcer),
// once the owner state of deleted rooms is gone.
func (r *catalogSync) publishChanges(changes []catalog.Change) {
	for _, c := range changes {
		if c.Before != nil && c.After == nil {
			r.forget(c.ID)
		}
	}
	r.announce.Changes(changes...)
}

// NotifyMsg implements membership.Delegate.
func (r *catalogSync) NotifyMsg(msg []byte) {
	var n notice
	if err := json.Unmarshal(msg, &n); err != nil || n.From == "" {
		r.met.catalog.WithLabelValues("invalid").Inc()
		return
	}
	if n.Fetch {
		r.queueCatalog(catalogUpdate{fetchFrom: n.From, source: "fetch"})
		return
	}
	r.queueCatalog(catalogUpdate{records: n.Records, source: "gossip"})
}

// LocalState implements membership.Delegate: the whole catalog, tombstones
// included.
func (r *catalogSync) LocalState() []byte {
	b, err := json.Marshal(r.catalog.Records())
	if err != nil {
		r.log.Error("catalog state not encoded", "err", err)
		return nil
	}
	return b
}

// MergeRemoteState implements membership.Delegate.
func (r *catalogSync) MergeRemoteState(state []byte) {
	var recs []catalog.Record
	if err := json.Unmarshal(state, &recs); err != nil {
		r.met.catalog.WithLabelValues("invalid").Inc()
		return
	}
	r.queueCatalog(catalogUpdate{records: recs, source: "state"})
}
